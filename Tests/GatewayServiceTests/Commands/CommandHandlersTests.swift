import ConnectionPool
import Foundation
import GatewayService
import HTTPServer
import RedisClient
import TestSupport
import Testing

/// The Upstash-compatible command API end to end, with tokens.
@Suite struct CommandHandlersTests {
    let harness: GatewayHarness
    let redis = RedisServer.shared
    let auth = [("Authorization", "Bearer full-token")]
    let readOnly = [("Authorization", "Bearer ro-token")]

    init() throws {
        harness = try GatewayHarness {
            $0.auth.tokens = ["full-token"]
            $0.auth.readOnlyTokens = ["ro-token"]
        }
    }

    func json(_ response: TestResponse) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])
    }

    func post(_ path: String, _ body: String, headers: [(String, String)] = []) -> TestResponse {
        harness.request("POST", path, text: body, headers: auth + headers)
    }

    @Test func aMissingOrWrongTokenIs401WithWWWAuthenticate() {
        for headers in [[], [("Authorization", "Bearer nope")], [("Authorization", "Basic full-token")]] {
            let response = harness.request("POST", "/", text: #"["PING"]"#, headers: headers)
            #expect(response.status == 401)
            #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            #expect(response.text == #"{"error":"WRONGPASS invalid or missing auth token"}"#)
        }
        #expect(harness.request("GET", "/cache/x").status == 401, "auth applies to the cache endpoints too")
        #expect(harness.request("GET", "/healthz").status == 200)
        #expect(harness.request("GET", "/readyz").status == 200)
        #expect(harness.request("GET", "/metrics").status == 200, "metrics are open unless configured otherwise")
        #expect(harness.request("POST", "/?_token=full-token", text: #"["PING"]"#).status == 200, "?_token= works too")
    }

    @Test func aReadOnlyTokenRunsReadsOnly() {
        let key = uniqueKey("ro")
        redis.command(["SET", key, "v"])
        #expect(harness.request("GET", "/get/\(key)", headers: readOnly).text == #"{"result":"v"}"#)
        let write = harness.request("GET", "/set/\(key)/other", headers: readOnly)
        #expect(write.status == 403)
        #expect(write.text.contains("NOPERM"))
        #expect(harness.request("PUT", "/cache/\(key)", text: "x", headers: readOnly).status == 403)
        #expect(harness.request("GET", "/cache/\(key)", headers: readOnly).status == 200)
        #expect(redis.command(["GET", key]) == "v")
    }

    @Test func metricsCanBeProtected() throws {
        let protected = try GatewayHarness {
            $0.auth.tokens = ["t"]
            $0.auth.protectMetrics = true
        }
        #expect(protected.request("GET", "/metrics").status == 401)
        #expect(protected.request("GET", "/pool/stats").status == 401)
        #expect(protected.request("GET", "/metrics", headers: [("Authorization", "Bearer t")]).status == 200)
        #expect(protected.request("GET", "/healthz").status == 200)
    }

    @Test func commandsInThePathTakeBodyThenQueryArguments() {
        let key = uniqueKey("path")
        let set = harness.request("POST", "/set/\(encoded(key))?EX=100", text: "a value/with slash", headers: auth)
        #expect(set.text == #"{"result":"OK"}"#)
        #expect(redis.command(["GET", key]) == "a value/with slash")
        #expect(Int(redis.command(["TTL", key])?.dropFirst() ?? "") ?? 0 > 90)
        #expect(harness.request("GET", "/get/\(encoded(key))", headers: auth).text == #"{"result":"a value/with slash"}"#)
        #expect(harness.request("GET", "/strlen/\(encoded(key))", headers: auth).text == #"{"result":18}"#)
        let refused = harness.request("DELETE", "/get/\(encoded(key))", headers: auth)
        #expect(refused.status == 405 && refused.headers["allow"] == "GET, HEAD, POST, PUT")
        #expect(refused.text.hasPrefix(#"{"error":"method DELETE not allowed"#))
        #expect(harness.request("GET", "/cache/a/b/c", headers: auth).status == 404, "service prefixes are never commands")
    }

    @Test func oneCommandAsJSON() {
        let key = uniqueKey("json")
        #expect(post("/", #"["SET","\#(key)",1.50]"#).text == #"{"result":"OK"}"#)
        #expect(redis.command(["GET", key]) == "1.50", "numbers keep their literal text")
        #expect(post("/", #"["HSET","\#(key)h","f","v"]"#).text == #"{"result":1}"#)
        #expect(post("/", #"["HGETALL","\#(key)h"]"#).text == #"{"result":["f","v"]}"#)
        #expect(post("/", #"["GET","\#(uniqueKey())"]"#).text == #"{"result":null}"#)
        let wrongType = post("/", #"["LPUSH","\#(key)","x"]"#)
        #expect(wrongType.status == 400)
        #expect(wrongType.text.hasPrefix(#"{"error":"WRONGTYPE"#))
        let unknown = post("/", #"["NOSUCHCOMMAND"]"#)
        #expect(unknown.status == 400)
        #expect((json(unknown) as? [String: String])?["error"]?.hasPrefix("ERR unknown command") == true)
    }

    @Test func aPipelineAnswersEachCommandOnItsOwn() {
        let key = uniqueKey("pipe")
        let response = post("/pipeline", #"[["SET","\#(key)","1"],["INCR","\#(key)"],["LPUSH","\#(key)","x"],["GET","\#(key)"]]"#)
        #expect(response.status == 200)
        #expect(
            response.text
                == #"[{"result":"OK"},{"result":2},{"error":"WRONGTYPE Operation against a key holding the wrong kind of value"},{"result":"2"}]"#
        )
    }

    /// The review found query arguments losing bytes that are not UTF-8 (U+FFFD instead); the path
    /// kept them. Both now give Redis the exact bytes.
    @Test func queryArgumentsKeepBytesThatAreNotUTF8() throws {
        let key = uniqueKey("bytes")
        #expect(harness.request("POST", "/rpush/\(key)-list?%FF%FE=%00%80", headers: auth).status == 200)
        let stored = harness.request(
            "POST", "/", text: #"["LRANGE","\#(key)-list","0","-1"]"#, headers: auth + [("Upstash-Encoding", "base64")])
        // RPUSH key <0xFF 0xFE> <0x00 0x80>: both elements byte for byte.
        #expect(stored.text == #"{"result":["//4=","AIA="]}"#, "\(stored.text)")
        redis.command(["DEL", key, "\(key)-list"])
    }

    @Test func aThousandCommandPipelineRunsInOrder() {
        let key = uniqueKey("many")
        let body = "[" + Array(repeating: #"["INCR","\#(key)"]"#, count: 1000).joined(separator: ",") + "]"
        let response = post("/pipeline", body)
        let results = (json(response) as? [[String: Int]])?.compactMap { $0["result"] }
        #expect(results == Array(1...1000))
        // However far past the limit: 413 (the review found 100,000 answering 400).
        for count in [1001, 1002, 100_000] {
            let over = post("/pipeline", "[" + Array(repeating: #"["PING"]"#, count: count).joined(separator: ",") + "]")
            #expect(over.status == 413, "\(count) commands")
            #expect(over.text == #"{"error":"ERR more than 1000 commands in one batch"}"#)
        }
    }

    @Test func aBatchWithARefusedCommandRunsNothing() {
        let key = uniqueKey("refused")
        let response = post("/pipeline", #"[["SET","\#(key)","1"],["FLUSHALL"]]"#)
        #expect(response.status == 403)
        #expect(response.text.contains("command 1"))
        #expect(redis.command(["EXISTS", key]) == ":0", "nothing ran")
        let malformed = post("/pipeline", #"[["SET","\#(key)","1"],["GET",{"x":1}]]"#)
        #expect(malformed.status == 400)
        #expect(malformed.text.contains("command 1, argument 1"))
    }

    @Test func multiExecIsATransaction() {
        let key = uniqueKey("tx")
        let response = post("/multi-exec", #"[["SET","\#(key)","1"],["INCR","\#(key)"],["LPUSH","\#(key)","x"],["GET","\#(key)"]]"#)
        #expect(response.status == 200)
        #expect(
            response.text
                == #"[{"result":"OK"},{"result":2},{"error":"WRONGTYPE Operation against a key holding the wrong kind of value"},{"result":"2"}]"#
        )
        let aborted = post("/multi-exec", #"[["SET","\#(key)2","1"],["SET","only-key"]]"#)
        #expect(aborted.status == 400)
        #expect(aborted.text.contains("EXECABORT"))
        #expect(redis.command(["EXISTS", "\(key)2"]) == ":0", "an aborted transaction runs nothing")
        #expect(post("/multi-exec", #"[["MULTI"]]"#).status == 400)
        #expect(post("/multi-exec", #"[["PING"]]"#, headers: [("Upstash-Response-Format", "resp2")]).status == 400)
    }

    @Test func base64EncodingIsTheSDKDefault() {
        let key = uniqueKey("b64")
        let base64 = [("Upstash-Encoding", "base64")]
        #expect(post("/", #"["PING"]"#, headers: base64).text == #"{"result":"UE9ORw=="}"#)
        #expect(post("/", #"["SET","\#(key)","hello"]"#, headers: base64).text == #"{"result":"OK"}"#)
        #expect(post("/", #"["GET","\#(key)"]"#, headers: base64).text == #"{"result":"aGVsbG8="}"#)
        #expect(post("/", #"["STRLEN","\#(key)"]"#, headers: base64).text == #"{"result":5}"#)
        #expect(post("/", #"["LPUSH","\#(key)","x"]"#, headers: base64).text.hasPrefix(#"{"error":"WRONGTYPE"#), "errors are never encoded")
        let binary = harness.request("POST", "/set/\(key)b", headers: auth, body: [0xFF, 0x00, 0x80])
        #expect(binary.status == 200)
        #expect(post("/", #"["GET","\#(key)b"]"#, headers: base64).text == #"{"result":"/wCA"}"#)
        #expect(post("/", #"["GET","\#(key)b"]"#).text == "{\"result\":\"\u{FFFD}\\u0000\u{FFFD}\"}")
    }

    @Test func resp2FormatGivesTheRawReply() {
        let key = uniqueKey("resp")
        redis.command(["SET", key, "abc"])
        let raw = post("/", #"["GET","\#(key)"]"#, headers: [("Upstash-Response-Format", "resp2")])
        #expect(raw.headers["content-type"] == "application/octet-stream")
        #expect(raw.text == "$3\r\nabc\r\n")
        let both = post("/", #"["GET","\#(key)"]"#, headers: [("Upstash-Response-Format", "resp2"), ("Upstash-Encoding", "base64")])
        #expect(both.text == "$3\r\nabc\r\n", "resp2 is binary-safe already: base64 does not apply to it")
        #expect(post("/", #"["GET","k"]"#, headers: [("Upstash-Response-Format", "xml")]).status == 400)
        let unknownEncoding = post("/", #"["GET","k"]"#, headers: [("Upstash-Encoding", "base32")])
        #expect(unknownEncoding.status == 400 && unknownEncoding.text.contains("Upstash-Encoding must be base64"))
    }

    @Test func theSyncTokenChangesWithWritesOnly() {
        let key = uniqueKey("sync")
        let first = post("/", #"["GET","\#(key)"]"#).headers["upstash-sync-token"]
        let afterRead = post("/", #"["GET","\#(key)"]"#, headers: [("Upstash-Sync-Token", first ?? "")]).headers["upstash-sync-token"]
        #expect(first != nil && first == afterRead)
        let afterWrite = post("/", #"["SET","\#(key)","v"]"#).headers["upstash-sync-token"]
        #expect(afterWrite != nil && afterWrite != afterRead)
        #expect(harness.request("GET", "/healthz").headers["upstash-sync-token"] == afterWrite, "every response carries it")
    }

    @Test func telemetryHeadersAreAccepted() {
        let response = post(
            "/", #"["PING"]"#,
            headers: [("Upstash-Telemetry-Sdk", "py-upstash-redis@v1.8.0"), ("Upstash-Telemetry-Runtime", "python@v3.11")])
        #expect(response.text == #"{"result":"PONG"}"#)
    }

    @Test func connectionStateAndBlockingCommandsAreRefused() {
        #expect(post("/", #"["SELECT","1"]"#).status == 400)
        #expect(post("/", #"["SUBSCRIBE","ch"]"#).status == 400)
        #expect(post("/", #"["BLPOP","l","0"]"#).status == 400)
        #expect(post("/", #"["CONFIG","SET","maxmemory","1"]"#).status == 403)
        #expect(post("/", #"["BLPOP","\#(uniqueKey())","0.1"]"#).text == #"{"result":null}"#, "a short timeout is fine")
        #expect(harness.gateway.pool!.statistics.inUse == 0)
    }
}
