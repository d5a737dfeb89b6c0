import CoreUtilities
import HTTPServer
import Testing

@Suite struct RouterTests {
    func router() -> Router {
        var router = Router()
        router.add(.get, "/items/{id}") { request in .json(200, "get " + (request.parameterString("id") ?? "?")) }
        router.add(.put, "/items/{id}") { _ in HTTPResponse(status: 201) }
        router.add(.get, "/items/{id}/ttl") { request in .json(200, "ttl " + (request.parameterString("id") ?? "?")) }
        router.add(.get, "/health") { _ in .json(200, "ok") }
        return router
    }

    func request(_ method: HTTPMethod, _ path: String) -> HTTPRequest {
        HTTPRequest(method: method, rawPath: path)!
    }

    @Test func matchesPathParametersAfterDecodingEachSegment() {
        let response = router().respond(to: request(.get, "/items/a%2Fb%20c"))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "get a/b c")
        let nested = router().respond(to: request(.get, "/items/x/ttl"))
        #expect(String(decoding: nested.body, as: UTF8.self) == "ttl x")
    }

    @Test func unknownPathsAre404WithAJSONError() {
        let response = router().respond(to: request(.get, "/nothing/here"))
        #expect(response.status == 404)
        #expect(String(decoding: response.body, as: UTF8.self).hasPrefix(#"{"error":"#))
    }

    @Test func aWrongMethodIs405WithAllow() {
        let response = router().respond(to: request(.delete, "/items/1"))
        #expect(response.status == 405)
        #expect(response.header("allow") == "GET, PUT, HEAD")
    }

    @Test func headIsServedByTheGetRoute() {
        #expect(router().respond(to: request(.head, "/health")).status == 200)
    }

    @Test func anEmptySegmentStillMatchesAParameter() {
        #expect(router().respond(to: request(.get, "/items/")).status == 200)
    }
}

@Suite struct PercentDecodingTests {
    @Test func decodesEscapesToBytes() {
        #expect(PercentDecoding.decode("a%00b%FF") == [97, 0, 98, 255])
        #expect(PercentDecoding.decode("a+b") == Array("a+b".utf8))
        #expect(PercentDecoding.decode("a+b", plusIsSpace: true) == Array("a b".utf8))
    }

    @Test(arguments: ["%", "%4", "%zz", "abc%g0"])
    func rejectsMalformedEscapes(_ text: String) {
        #expect(PercentDecoding.decode(Substring(text)) == nil)
    }

    @Test func aMalformedPathMakesNoRequest() {
        #expect(HTTPRequest(method: .get, rawPath: "/a/%zz") == nil)
    }
}

@Suite struct JSONStringTests {
    @Test func escapesQuotesBackslashesAndControls() {
        #expect(JSONString.quote("a\"b\\c\n\u{1}é") == #""a\"b\\c\n\u0001é""#)
    }

    @Test(arguments: ["plain", "", "a\"b\\c\n\r\t\u{1}\u{1f}é😀", "tab\tand\u{7f}"])
    func quotingIntoBytesMatchesQuotingIntoAString(_ text: String) {
        var bytes: [UInt8] = []
        JSONString.appendQuoted(text.utf8, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == JSONString.quote(text))
    }
}
