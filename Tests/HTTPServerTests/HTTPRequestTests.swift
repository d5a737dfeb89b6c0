import CoreUtilities
import HTTPServer
import Testing

/// Parsing a request's path, query and header names (byte-wise, ASCII case folding).
@Suite struct HTTPRequestTests {
    @Test func pathSegmentsAreSplitOnBytesAndDecoded() throws {
        let request = try #require(HTTPRequest(method: .get, rawPath: "/get/a%2Fb/%E2%82%AC//x+y"))
        #expect(request.pathSegments == [Array("get".utf8), Array("a/b".utf8), Array("€".utf8), [], Array("x+y".utf8)])
        #expect(try #require(HTTPRequest(method: .get, rawPath: "/")).pathSegments == [[]])
        #expect(HTTPRequest(method: .get, rawPath: "/a/%4") == nil)
        let query = try #require(HTTPRequest(method: .get, rawPath: "/q", rawQuery: [("a+b", "c%20d+e")]))
        #expect(query.query.map(\.name) == ["a b"] && query.query.map(\.value) == ["c d e"])
    }

    @Test func headerNamesAreFoldedOnce() throws {
        let request = try #require(
            HTTPRequest(method: .get, rawPath: "/", headers: [("X-Request-ID", "1"), ("accept", "a"), ("Upstash-Encoding", "base64")]))
        #expect(request.headers.map(\.name) == ["x-request-id", "accept", "upstash-encoding"])
        #expect(request.header("x-request-id") == "1" && request.header("Upstash-Encoding") == "base64" && request.header("ACCEPT") == "a")
    }

    @Test func asciiCaseFolding() {
        #expect(ASCIICase.lowercased("Content-Length") == "content-length")
        #expect(ASCIICase.lowercased("ÄB") == "Äb", "only ASCII letters change")
        #expect(ASCIICase.uppercased(Array("get".utf8)) == "GET" && ASCIICase.uppercased(Array("Json.Get".utf8)) == "JSON.GET")
        #expect(ASCIICase.equals("CONTENT-length", lowercase: "content-length"))
        #expect(!ASCIICase.equals("content-lengths", lowercase: "content-length"))
        #expect(ASCIICase.contains("text/html, Application/Octet-Stream;q=0.9", lowercase: "application/octet-stream"))
        #expect(!ASCIICase.contains("*/*", lowercase: "application/octet-stream") && ASCIICase.contains("ab", lowercase: ""))
    }
}
