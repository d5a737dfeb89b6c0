import ConnectionPool
import Foundation
import GatewayService
import HTTPServer
import RedisClient
import Synchronization
import TestSupport
import Testing

/// Redis down, slow or the pool full: a fast 503/504 with a clear message, never a hang, never a
/// leaked connection.
@Suite struct FailureModesTests {
    func error(_ response: TestResponse) -> String {
        ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any])?["error"] as? String ?? ""
    }

    @Test func redisDownIsAFast503() throws {
        let deadPort = BlockingSocket.freePort()
        let harness = try GatewayHarness(redisURL: "redis://127.0.0.1:\(deadPort)/0")
        let clock = ContinuousClock()
        let start = clock.now
        let response = harness.request("GET", "/cache/anything")
        #expect(clock.now - start < .seconds(1))
        #expect(response.status == 503)
        #expect(error(response).contains("unreachable"))
        let ready = harness.request("GET", "/readyz")
        #expect(ready.status == 503)
        #expect(ready.text.contains(#""state":"down""#) && ready.text.contains("down_since") && error(ready) == "Redis is down")
        #expect(harness.request("GET", "/pool/health").status == 503)
        #expect(harness.request("GET", "/healthz").status == 200, "liveness does not depend on Redis")
        let stats = harness.gateway.pool!.statistics
        #expect(stats.inUse == 0 && stats.open <= 1 && stats.connectFailures >= 1 && stats.fastFailures >= 1)
        #expect(harness.request("GET", "/pool/stats").text.contains(#""state":"down""#))
    }

    @Test func aStalledRedisIsA504AndTheConnectionIsDiscarded() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url) { $0.redis.socketTimeout = .milliseconds(200) }
        let key = uniqueKey("slow")
        #expect(harness.request("PUT", "/cache/\(key)", text: "v").status == 201)
        #expect(server.command(["CLIENT", "PAUSE", "700", "ALL"]) == "+OK")
        let clock = ContinuousClock()
        let start = clock.now
        let response = harness.request("GET", "/cache/\(key)")
        #expect(response.status == 504)
        #expect(clock.now - start < .milliseconds(650))
        #expect(harness.gateway.pool!.statistics.discarded == 1)
        // Once Redis answers again the next request succeeds on a fresh connection and reads its own reply.
        _ = server.command(["PING"])
        let after = harness.request("GET", "/cache/\(key)")
        #expect(after.status == 200)
        #expect(after.text.contains(#""value":"v""#))
        #expect(harness.gateway.pool!.statistics.inUse == 0)
    }

    @Test func anExhaustedPoolIs503WithRetryAfter() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url) {
            $0.pool.maxConnections = 1
            $0.pool.waitTimeout = .milliseconds(200)
            $0.redis.socketTimeout = .seconds(3)
        }
        let key = uniqueKey("busy")
        #expect(harness.request("PUT", "/cache/\(key)", text: "v").status == 201)
        #expect(server.command(["CLIENT", "PAUSE", "1500", "ALL"]) == "+OK")
        let first = Mutex<Int>(0)
        let holder = TestThread { first.withLock { $0 = harness.request("GET", "/cache/\(key)").status } }
        holder.start()
        // Await the condition (the only connection lent out), bounded.
        var lent = false
        for _ in 0..<200_000 where !lent { lent = harness.gateway.pool!.statistics.inUse == 1 }
        #expect(lent)
        let clock = ContinuousClock()
        let start = clock.now
        let second = harness.request("GET", "/cache/\(key)")
        let waited = clock.now - start
        #expect(second.status == 503)
        #expect(second.headers["retry-after"] == "1")
        #expect(error(second).contains("pool exhausted"))
        #expect(waited >= .milliseconds(200) && waited < .milliseconds(600), "waited \(waited)")
        holder.join()
        #expect(first.withLock { $0 } == 200)
        let stats = harness.gateway.pool!.statistics
        #expect(stats.waitTimeouts == 1 && stats.inUse == 0 && stats.open == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func concurrentRequestsNeverOpenMoreThanTheMaximum() throws {
        let server = RedisServer.shared
        let name = "gw-\(uniqueKey().filter(\.isLetter).prefix(8))"
        let harness = try GatewayHarness {
            $0.pool.maxConnections = 4; $0.http.workerThreads = 8; $0.redis.clientName = name
        }
        let failures = Atomic<Int>(0)
        let running = Atomic<Bool>(true)
        let maxSeen = Atomic<Int>(0)
        let sampler = TestThread {
            while running.load(ordering: .relaxed) { maxSeen.max(server.clientCount(named: name), ordering: .relaxed) }
        }
        sampler.start()
        let key = uniqueKey("shared")
        let workers = (0..<32).map { index in
            TestThread {
                for round in 0..<25 {
                    let status =
                        round % 2 == 0
                        ? harness.request("PUT", "/cache/\(key)", text: "\(index)").status
                        : harness.request("GET", "/cache/\(key)").status
                    if ![200, 201].contains(status) { failures.add(1, ordering: .relaxed) }
                }
            }
        }
        workers.forEach { $0.start() }
        workers.forEach { $0.join() }
        running.store(false, ordering: .relaxed)
        sampler.join()
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(maxSeen.load(ordering: .relaxed) <= 4)
        let stats = harness.gateway.pool!.statistics
        #expect(stats.inUse == 0 && stats.open <= 4)
    }

    @Test func shutdownClosesThePoolConnections() throws {
        let name = "gw-stop-\(uniqueKey().filter(\.isLetter).prefix(8))"
        let harness = try GatewayHarness {
            $0.redis.clientName = name
            $0.pool.minIdle = 3
        }
        #expect(harness.request("GET", "/readyz").status == 200)
        #expect(eventually { RedisServer.shared.clientCount(named: name) == 3 }, "minIdle connections are opened at start")
        harness.gateway.shutdown()
        #expect(RedisServer.shared.clientCount(named: name) == 0)
    }

    @Test func readinessTurns503WhileTheGatewayDrains() throws {
        let harness = try GatewayHarness { $0.http.workerThreads = 0 }
        let connection = try #require(KeepAliveConnection(port: harness.gateway.port))
        #expect(connection.get("/readyz")?.status == 200)
        let slow = TestThread { _ = harness.request("POST", "/", text: #"["BLPOP","\#(uniqueKey("drain"))","0.5"]"#) }
        slow.start()
        #expect(eventually { harness.gateway.pool!.statistics.inUse == 1 })
        let stopper = TestThread { harness.gateway.shutdown() }
        stopper.start()
        #expect(eventually { harness.gateway.phase == .draining })
        let ready = connection.get("/readyz")
        #expect(ready?.status == 503 && ready?.text.contains("draining") == true, "\(ready?.text ?? "no response")")
        slow.join()
        stopper.join()
    }
}
