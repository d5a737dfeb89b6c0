import CoreUtilities
import HTTPServer
import Testing

@Suite struct RouterTests {
    func router() -> Router {
        var router = Router()
        router.add(.get, "/items/{id}") { request in
            HTTPResponse(status: 200, body: Array(("get " + (request.parameterString("id") ?? "?")).utf8))
        }
        router.add(.put, "/items/{id}") { _ in HTTPResponse(status: 201) }
        router.add(.get, "/items/{id}/ttl") { request in
            HTTPResponse(status: 200, body: Array(("ttl " + (request.parameterString("id") ?? "?")).utf8))
        }
        router.add(.get, "/health") { _ in HTTPResponse(status: 200, body: Array("ok".utf8)) }
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

@Suite struct JSONObjectTests {
    @Test func writesMembersInOrderEscapedAndNested() {
        var inner = JSONObject()
        inner.add("n", 1)
        var json = JSONObject()
        json.add("text", string: "a\"b\\c\n\u{01}é")
        json.add("bytes", utf8: Array("x".utf8))
        json.add("int", -3)
        json.add("double", 0.5)
        json.add("bool", true)
        json.add("none", optionalString: nil)
        json.add("inner", object: inner)
        json.merge(inner)
        #expect(
            String(decoding: json.bytes, as: UTF8.self)
                == #"{"text":"a\"b\\c\n\u0001é","bytes":"x","int":-3,"double":0.5,"bool":true,"none":null,"inner":{"n":1},"n":1}"#)
        #expect(String(decoding: JSONObject().bytes, as: UTF8.self) == "{}")
    }

    @Test func anErrorResponseCarriesItsExtraMembers() {
        var extra = JSONObject()
        extra.add("status", string: "draining")
        let response = HTTPResponse.error(503, "going", extra: extra)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"going","status":"draining"}"#)
    }
}
