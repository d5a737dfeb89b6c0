import RedisClient
import Testing

@testable import GatewayService

@Suite struct RESTResultRenderingTests {
    @Test func rendersRESP2ShapesAsJSON() throws {
        let value = RedisValue.array([.bulk(Array("f".utf8)), .integer(3), .null, .status("OK"), .array([])])
        #expect(try RESTResultRendering.json(value, encoding: .text) == #"["f",3,null,"OK",[]]"#)
        #expect(try RESTResultRendering.entry(.error("WRONGTYPE x"), encoding: .base64) == Array(#"{"error":"WRONGTYPE x"}"#.utf8))
    }

    @Test func invalidUTF8IsReplacedInTextMode() throws {
        #expect(try RESTResultRendering.json(.bulk([0x61, 0xFF]), encoding: .text) == "\"a\u{FFFD}\"")
    }

    @Test func base64EncodesEveryStringButOK() throws {
        #expect(try RESTResultRendering.json(.status("PONG"), encoding: .base64) == #""UE9ORw==""#)
        #expect(try RESTResultRendering.json(.status("OK"), encoding: .base64) == #""OK""#)
        #expect(try RESTResultRendering.json(.array([.bulk([0xFF]), .integer(1), .null]), encoding: .base64) == #"["/w==",1,null]"#)
    }

    /// Strings are measured before they are escaped: a body that fits renders, one whose strings
    /// would pass `maxBytes` is refused.
    @Test func theJSONBoundIsMeasuredBeforeEscaping() throws {
        let value = RedisValue.array([.bulk([0x01, 0x41]), .bulk(Array("ok".utf8))])
        let rendered = try RESTResultRendering.entries([value], encoding: .text)
        #expect(String(decoding: rendered, as: UTF8.self) == #"[{"result":["\u0001A","ok"]}]"#)
        #expect(try RESTResultRendering.entries([value], encoding: .text, maxBytes: rendered.count) == rendered)
        #expect(throws: GatewayError.self) { try RESTResultRendering.entries([value], encoding: .text, maxBytes: rendered.count - 4) }
        let large = RedisValue.bulk(Array(repeating: 0x01, count: 10_000))
        #expect(throws: GatewayError.self) { try RESTResultRendering.entry(large, encoding: .text, maxBytes: 50_000) }
        #expect(try RESTResultRendering.entry(large, encoding: .base64, maxBytes: 50_000).count < 14_000)
    }

    @Test func resp2IsTheBytesRedisSent() {
        var bytes: [UInt8] = []
        RESTResultRendering.resp2(.array([.bulk(Array("ab".utf8)), .integer(-1), .null, .status("OK"), .error("ERR x")]), into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "*5\r\n$2\r\nab\r\n:-1\r\n$-1\r\n+OK\r\n-ERR x\r\n")
    }
}
