import Crypto
import Foundation
import GatewayService
import TestSupport
import Testing

/// Scripts whose shebang carries flags Redis does not know (Upstash's `allow-key-locking`), against a
/// real Redis of their own: EVAL, EVALSHA with the client's digest, SCRIPT LOAD and EXISTS, NOSCRIPT,
/// SCRIPT FLUSH and a Redis restart.
@Suite struct ScriptCompatibilityTests {
    static let script = "#!lua flags=allow-key-locking,no-writes\nreturn 'ran ' .. ARGV[1]"
    static let sha = Insecure.SHA1.hash(data: Array(script.utf8)).map { String(format: "%02x", $0) }.joined()

    let redis = RedisServer()
    let harness: GatewayHarness

    init() throws {
        let url = redis.url
        harness = try GatewayHarness(redisURL: url) { $0.commandPolicy.denied.remove("SCRIPT FLUSH") }
    }

    func post(_ body: Any) -> (status: Int, text: String) {
        let data = try! JSONSerialization.data(withJSONObject: body)
        let response = harness.request("POST", "/", body: Array(data))
        return (response.status, response.text)
    }

    @Test func redisAloneRefusesTheFlagTheGatewayRemoves() {
        #expect(redis.command(["EVAL", Self.script, "0", "x"])?.contains("Unexpected flag") == true)
    }

    @Test func evalThenEvalshaWithTheClientsDigest() {
        #expect(post(["EVALSHA", Self.sha, "0", "a"]).text.hasPrefix(#"{"error":"NOSCRIPT"#), "unknown before any EVAL")
        #expect(post(["EVAL", Self.script, "0", "a"]).text == #"{"result":"ran a"}"#)
        #expect(post(["EVALSHA", Self.sha, "0", "b"]).text == #"{"result":"ran b"}"#)
        #expect(post(["SCRIPT", "EXISTS", Self.sha, String(repeating: "0", count: 40)]).text == #"{"result":[1,0]}"#)
    }

    @Test func scriptLoadAnswersTheClientsDigestAndTheKnownFlagIsKept() {
        #expect(post(["SCRIPT", "LOAD", Self.script]).text == #"{"result":"\#(Self.sha)"}"#)
        #expect(post(["EVALSHA_RO", Self.sha, "0", "c"]).text == #"{"result":"ran c"}"#, "no-writes was kept, so EVALSHA_RO runs it")
        let pipeline = harness.request(
            "POST", "/pipeline",
            body: Array(try! JSONSerialization.data(withJSONObject: [["EVALSHA", Self.sha, "0", "d"], ["EVAL", Self.script, "0", "e"]])))
        #expect(pipeline.text == #"[{"result":"ran d"},{"result":"ran e"}]"#)
    }

    @Test func scriptFlushAndARedisRestartBringNoscriptBackUntilTheClientSendsEvalAgain() {
        #expect(post(["EVAL", Self.script, "0", "a"]).status == 200)
        #expect(post(["SCRIPT", "FLUSH"]).text == #"{"result":"OK"}"#)
        #expect(post(["EVALSHA", Self.sha, "0", "a"]).text.hasPrefix(#"{"error":"NOSCRIPT"#))
        #expect(post(["SCRIPT", "EXISTS", Self.sha]).text == #"{"result":[0]}"#)
        #expect(post(["EVAL", Self.script, "0", "b"]).text == #"{"result":"ran b"}"#)

        redis.stop()
        redis.start()
        #expect(eventually(within: .seconds(10)) { post(["PING"]).status == 200 })
        #expect(post(["EVALSHA", Self.sha, "0", "c"]).text.hasPrefix(#"{"error":"NOSCRIPT"#), "Redis lost its scripts")
        #expect(post(["EVAL", Self.script, "0", "d"]).text == #"{"result":"ran d"}"#)
        #expect(post(["EVALSHA", Self.sha, "0", "e"]).text == #"{"result":"ran e"}"#)
    }
}
