import RedisClient
import Testing

@testable import GatewayService

@Suite struct RESTResultRenderingTests {
    @Test func rendersRESP2ShapesAsJSON() {
        let value = RedisValue.array([.bulk(Array("f".utf8)), .integer(3), .null, .status("OK"), .array([])])
        #expect(RESTResultRendering.json(value, encoding: .text) == #"["f",3,null,"OK",[]]"#)
        #expect(RESTResultRendering.entry(.error("WRONGTYPE x"), encoding: .base64) == Array(#"{"error":"WRONGTYPE x"}"#.utf8))
    }

    @Test func invalidUTF8IsReplacedInTextMode() {
        #expect(RESTResultRendering.json(.bulk([0x61, 0xFF]), encoding: .text) == "\"a\u{FFFD}\"")
    }

    @Test func base64EncodesEveryStringButOK() {
        #expect(RESTResultRendering.json(.status("PONG"), encoding: .base64) == #""UE9ORw==""#)
        #expect(RESTResultRendering.json(.status("OK"), encoding: .base64) == #""OK""#)
        #expect(RESTResultRendering.json(.array([.bulk([0xFF]), .integer(1), .null]), encoding: .base64) == #"["/w==",1,null]"#)
    }

    @Test func resp2IsTheBytesRedisSent() {
        var bytes: [UInt8] = []
        RESTResultRendering.resp2(.array([.bulk(Array("ab".utf8)), .integer(-1), .null, .status("OK"), .error("ERR x")]), into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "*5\r\n$2\r\nab\r\n:-1\r\n$-1\r\n+OK\r\n-ERR x\r\n")
    }
}
