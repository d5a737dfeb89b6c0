import Foundation
import RedisClient
import TestSupport
import Testing

@testable import GatewayService

/// The script run-time budget against a real Redis: a read-only token's busy loop (`EVAL_RO`,
/// `FCALL_RO`) answers 504 at the socket timeout, and the gateway kills it from a side connection,
/// so Redis serves everyone again. Without the kill the loop never ends and every PING answers BUSY.
@Suite struct ScriptTimeoutKillerTests {
    let readOnly = [("Authorization", "Bearer ro")]

    /// A Redis of its own (a busy script stalls the whole server) that reads other clients' commands
    /// 100 ms into a script, as the gateway's README asks of `busy-reply-threshold`.
    func serverAndGateway() throws -> (RedisServer, GatewayHarness) {
        let server = RedisServer(extraArguments: ["--busy-reply-threshold", "100"])
        let harness = try GatewayHarness(redisURL: server.url) {
            $0.auth.tokens = ["full"]
            $0.auth.readOnlyTokens = ["ro"]
            $0.redis.socketTimeout = .milliseconds(300)
        }
        return (server, harness)
    }

    @Test func aReadOnlyScriptsBusyLoopIsKilledAtTheSocketTimeout() throws {
        let (server, harness) = try serverAndGateway()
        defer { server.command(["SCRIPT", "KILL"]) }
        let spin = harness.request("POST", "/", text: #"["EVAL_RO","while true do end","0"]"#, headers: readOnly)
        #expect(spin.status == 504, "\(spin.text)")
        #expect(eventually(within: .seconds(5)) { server.command(["PING"]) == "+PONG" }, "the script was never killed")
        #expect(harness.request("POST", "/", text: #"["PING"]"#, headers: readOnly).text == #"{"result":"PONG"}"#)
        #expect(eventually { harness.request("GET", "/pool/stats").text.contains(#""scripts_killed":1"#) })
        #expect(harness.request("GET", "/metrics").text.contains("gateway_scripts_killed_total 1"))
    }

    @Test func aReadOnlyFunctionsBusyLoopIsKilledToo() throws {
        let (server, harness) = try serverAndGateway()
        defer { server.command(["FUNCTION", "KILL"]) }
        let library =
            "#!lua name=spinning\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}"
        #expect(server.command(["FUNCTION", "LOAD", library]) == "spinning")
        let spin = harness.request("POST", "/", text: #"["FCALL_RO","spin","0"]"#, headers: readOnly)
        #expect(spin.status == 504, "\(spin.text)")
        #expect(eventually(within: .seconds(5)) { server.command(["PING"]) == "+PONG" }, "the function was never killed")
    }

    @Test func theKillIsChosenByTheScriptCommand() {
        #expect(
            ScriptTimeoutKiller.kill(for: [RedisCommand("EVALSHA_RO", "abc", "0")])?.arguments == [
                Array("SCRIPT".utf8), Array("KILL".utf8),
            ])
        #expect(ScriptTimeoutKiller.kill(for: [RedisCommand("GET", "k"), RedisCommand("fcall", "f", "0")])?.name == "FUNCTION")
        #expect(ScriptTimeoutKiller.kill(for: [RedisCommand("GET", "k")]) == nil)
    }
}
