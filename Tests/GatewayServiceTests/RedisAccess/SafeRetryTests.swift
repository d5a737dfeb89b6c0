import ConnectionPool
import GatewayService
import RedisClient
import TestSupport
import Testing

/// Safe retry against a real Redis: what never reached Redis is re-sent (exactly once in effect);
/// an ambiguous write is not; a read is.
@Suite struct SafeRetryTests {
    /// `POST /` with a JSON command; the status and body.
    func run(_ harness: GatewayHarness, _ command: String) -> TestResponse {
        harness.request("POST", "/", text: command)
    }

    @Test func aWriteOnAConnectionRedisAlreadyClosedIsResentAndRunsOnce() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url) {
            $0.pool.minIdle = 3
            $0.pool.healthCheckInterval = .seconds(3600)  // no PING before use: the write meets the dead socket
        }
        defer { harness.gateway.shutdown() }
        #expect(eventually { harness.gateway.pool!.statistics.idle == 3 })
        // Every pooled connection is closed by Redis; the gateway has not noticed yet.
        #expect(server.command(["CLIENT", "KILL", "TYPE", "normal"]).map { Int($0.dropFirst()) ?? 0 } == 3)
        let key = uniqueKey("incr")
        let response = run(harness, #"["INCR","\#(key)"]"#)
        #expect(response.status == 200, "\(response.text)")
        #expect(response.text == #"{"result":1}"#)
        #expect(server.command(["GET", key]) == "1", "INCR ran exactly once")
        let stats = harness.gateway.pool!.statistics
        #expect(stats.inUse == 0 && stats.closed[.broken, default: 0] + stats.closed[.healthCheckFailed, default: 0] == 3)
        #expect(metric(harness, "redis_gateway_redis_resends_total") == 1)
    }

    @Test func aTimedOutWriteIsNotResentAndRunsOnce() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url) {
            $0.redis.socketTimeout = .milliseconds(100)
            $0.retry.resendAfterTimeout = true  // even so: a write is never re-sent after an ambiguous failure
        }
        defer { harness.gateway.shutdown() }
        let key = uniqueKey("stalled")
        #expect(run(harness, #"["SET","\#(key)","10"]"#).status == 200)
        // Redis stalls (DEBUG SLEEP, its reply not awaited); the INCR then waits in its socket, the
        // gateway gives up after the socket timeout, and Redis runs it when it wakes. The INCR is
        // sent only once a PING goes unanswered, so it cannot arrive after the sleep ended (on a
        // loaded machine it did, when the test just wrote DEBUG SLEEP and went on).
        let sleeper = try #require(BlockingSocket(port: server.port, timeoutSeconds: 5))
        #expect(sleeper.write(Array("*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$1\r\n2\r\n".utf8)))
        #expect(
            eventually { () -> Bool in
                guard let probe = BlockingSocket(port: server.port, timeoutSeconds: 5) else { return false }
                return probe.write(Array("*1\r\n$4\r\nPING\r\n".utf8)) && !probe.becomesReadable(within: 50)
            })
        let write = run(harness, #"["INCR","\#(key)"]"#)
        #expect(write.status == 504, "\(write.text)")
        #expect(eventually { server.command(["GET", key]) == "11" }, "the timed-out INCR ran once, and only once")
        #expect(metric(harness, "redis_gateway_redis_resends_total") == 0, "an ambiguous write is never re-sent")
        #expect(harness.gateway.pool!.statistics.inUse == 0)
    }

    @Test func aTimedOutReadIsResentWhenAllowed() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url) {
            $0.redis.socketTimeout = .milliseconds(100)
            $0.retry.resendAfterTimeout = true
        }
        defer { harness.gateway.shutdown() }
        let key = uniqueKey("paused")
        #expect(run(harness, #"["SET","\#(key)","v"]"#).status == 200)
        // A stall a little longer than the socket timeout: the first try times out, the re-send on a
        // fresh connection is answered once the pause ends.
        #expect(server.command(["CLIENT", "PAUSE", "150", "ALL"]) == "+OK")
        let read = run(harness, #"["GET","\#(key)"]"#)
        #expect(read.status == 200, "\(read.text)")
        #expect(read.text == #"{"result":"v"}"#)
        #expect(metric(harness, "redis_gateway_redis_resends_total") == 1)
        #expect(harness.gateway.pool!.statistics.inUse == 0)
    }
}

/// The value of an unlabelled-by-reason Prometheus sample of the gateway, e.g. a counter.
func metric(_ harness: GatewayHarness, _ name: String) -> Double? {
    let text = harness.request("GET", "/metrics").text
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        return line.split(separator: " ").last.flatMap { Double($0) }
    }
    return nil
}
