import ConnectionPool
import Foundation
import GatewayService
import HTTPServer
import RedisClient
import Synchronization
import TestSupport
import Testing

/// With as few HTTP threads as cores, no request may hold one while it waits for Redis: blocking
/// commands, transactions, `/pipeline` and the other waiting routes run on `RedisExecutor.offload`'s
/// threads. One HTTP thread here, against a real Redis.
@Suite struct WaitingWorkTests {
    @Test(.timeLimit(.minutes(1)))
    func aBlockedCommandDoesNotHoldTheOnlyHTTPThread() throws {
        let harness = try GatewayHarness {
            $0.http.workerThreads = 1
            $0.pool.maxConnections = 8
            $0.redis.socketTimeout = .seconds(5)
        }
        let list = uniqueKey("waiting")
        let blocked = Mutex<TestResponse?>(nil)
        // Each waiting kind of request, each parked in Redis for up to 3 s.
        let waiters = [
            TestThread { blocked.withLock { $0 = harness.request("POST", "/", text: #"["BLPOP","\#(list)","3"]"#) } },
            TestThread { _ = harness.request("POST", "/pipeline", text: #"[["BLPOP","\#(list):p","3"]]"#) },
            TestThread { _ = harness.request("POST", "/multi-exec", text: #"[["SET","\#(list):m","1"],["GET","\#(list):m"]]"#) },
        ]
        waiters.forEach { $0.start() }
        #expect(eventually { harness.gateway.pool!.statistics.inUse >= 2 }, "the two BLPOPs hold connections")
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<20 {
            #expect(harness.request("PUT", "/cache/\(list):\(index)", text: "v").status == 201)
            #expect(harness.request("GET", "/cache/\(list):\(index)").text.contains(#""value":"v""#))
            #expect(harness.request("POST", "/INCR/\(list):n").status == 200)
            #expect(harness.request("DELETE", "/cache/\(list):\(index)").status == 204)
        }
        #expect(clock.now - start < .seconds(2), "the other requests went on while the BLPOPs waited")
        #expect(harness.request("POST", "/", text: #"["RPUSH","\#(list)","x"]"#).status == 200)
        waiters[0].join()
        #expect(blocked.withLock { $0?.text } == #"{"result":["\#(list)","x"]}"#, "the waiting command still gets its own reply")
        waiters.dropFirst().forEach { $0.join() }
    }

    /// A thread per connection (`GATEWAY_THREADS=0`): requests answered later (the pipelined
    /// senders, the waiting threads) reach their connection's own thread at once, not at
    /// libmicrohttpd's next poll.
    @Test(.timeLimit(.minutes(1)))
    func aThreadPerConnectionGetsAnswersAtOnce() throws {
        let harness = try GatewayHarness { $0.http.workerThreads = 0 }
        let key = uniqueKey("per-connection")
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<10 {
            #expect(harness.request("PUT", "/cache/\(key)", text: "v").status < 300)
            #expect(harness.request("GET", "/cache/\(key)").status == 200)
            #expect(harness.request("GET", "/get/\(key)").text == #"{"result":"v"}"#)
            #expect(harness.request("POST", "/pipeline", text: #"[["GET","\#(key)"]]"#).status == 200)
        }
        #expect(clock.now - start < .seconds(2), "40 requests took \(clock.now - start)")
    }
}
