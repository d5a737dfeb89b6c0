import Foundation
import RedisClient
import TestSupport
import Testing

@testable import GatewayService

/// Redis saying "not now" (LOADING after a restart, BUSY under a long script, MASTERDOWN on a
/// replica that lost its master) is a 503 with Retry-After, never a 4xx blaming the caller and
/// never a 200 whose every result is the refusal. The soak found it: every Redis restart answered
/// LOADING for a moment, and the gateway passed it on as 409 and 400.
@Suite struct UnavailableReplyTests {
    @Test func aWholeRefusalIsUnavailableAndAnythingThatRanIsNot() {
        let loading = RedisValue.error("LOADING Redis is loading the dataset in memory")
        let get = RedisCommand("GET", "k")
        #expect(UnavailableReply.refusal(of: [loading], sent: [get]) == "LOADING Redis is loading the dataset in memory")
        #expect(UnavailableReply.refusal(of: [loading, loading], sent: [get, get]) != nil)
        let transaction = [RedisCommand("MULTI"), get, RedisCommand("EXEC")]
        let aborted = [RedisValue.status("OK"), .error("BUSY Redis is busy running a script."), .error("EXECABORT Transaction discarded")]
        #expect(UnavailableReply.refusal(of: aborted, sent: transaction) == "BUSY Redis is busy running a script.")
        #expect(
            UnavailableReply.refusal(of: [.status("OK"), loading], sent: [RedisCommand("SET", "k", "v"), get]) == nil, "one command ran")
        #expect(UnavailableReply.refusal(of: [.error("BUSYGROUP Consumer Group name already exists")], sent: [get]) == nil)
        #expect(UnavailableReply.refusal(of: [.error("BUSYKEY Target key name already exists.")], sent: [get]) == nil)
        #expect(UnavailableReply.refusal(of: [.error("WRONGTYPE Operation against a key")], sent: [get]) == nil)
        #expect(UnavailableReply.refusal(of: [.error("EXECABORT Transaction discarded")], sent: [RedisCommand("EXEC")]) == nil)
    }

    /// Every way in answers 503 with Retry-After while a script keeps Redis BUSY.
    @Test func aBusyRedisIsA503OnEveryRoute() throws {
        let server = RedisServer(extraArguments: ["--busy-reply-threshold", "50"])
        let harness = try GatewayHarness(redisURL: server.url) { $0.redis.socketTimeout = .seconds(2) }
        #expect(harness.request("PUT", "/cache/busy", text: "v").status == 201)
        let script = TestThread {
            _ = server.command(["EVAL", "local t = redis.call('TIME')[1] while redis.call('TIME')[1] - t < 3 do end", "0"])
        }
        script.start()
        defer {
            server.command(["SCRIPT", "KILL"])
            script.join()
        }
        #expect(eventually { server.command(["PING"])?.hasPrefix("-BUSY") ?? false })
        for (method, path, body) in [
            ("GET", "/cache/busy", ""), ("PUT", "/cache/busy", "w"), ("POST", "/", #"["GET","busy"]"#),
            ("POST", "/pipeline", #"[["GET","busy"],["GET","other"]]"#), ("POST", "/multi-exec", #"[["SET","busy","x"],["GET","busy"]]"#),
        ] {
            let response = harness.request(method, path, text: body)
            #expect(response.status == 503, "\(method) \(path): \(response.status) \(response.text)")
            #expect(response.headers["retry-after"] != nil, "\(method) \(path)")
            #expect(response.text.contains("BUSY"), "\(method) \(path): \(response.text)")
        }
    }

    /// A replica that lost its master and must not serve stale data refuses with MASTERDOWN.
    @Test func aReplicaWithoutItsMasterIsA503() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url)
        #expect(server.command(["CONFIG", "SET", "replica-serve-stale-data", "no"]) == "+OK")
        #expect(server.command(["REPLICAOF", "127.0.0.1", String(BlockingSocket.freePort())]) == "+OK")
        let response = harness.request("GET", "/cache/anything")
        #expect(response.status == 503, "\(response.status) \(response.text)")
        #expect(response.text.contains("MASTERDOWN"), "\(response.text)")
        #expect(harness.request("POST", "/", text: #"["GET","k"]"#).status == 503)
    }
}
