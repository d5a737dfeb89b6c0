import CoreUtilities
import Foundation
import LoadTesting
import Synchronization
import TestSupport
import Testing

/// One deadline per request, every request one lease, and a fixed set of threads: against the
/// built `redis-gateway` and a real `redis-server`.
@Suite(.serialized) struct RequestDeadlineTests {
    static let waitMilliseconds = 300
    static let socketMilliseconds = 500

    /// Behind `CLIENT PAUSE`, with a pool of 2 that the paused round trips fill: every request —
    /// shared lease (`GET /cache`, `/get`), exclusive lease (`/pipeline`), transaction
    /// (`/multi-exec`) — answers by its arrival + wait timeout + socket timeout (retries off),
    /// with a 503 or a 504.
    @Test(.timeLimit(.minutes(2)))
    func everyKindOfLeaseAnswersByArrivalPlusWaitPlusSocketTimeout() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(
            redisURL: redis.url,
            environment: [
                "GATEWAY_MAX_CONNECTIONS": "2", "GATEWAY_WAIT_TIMEOUT_MS": String(Self.waitMilliseconds),
                "GATEWAY_SOCKET_TIMEOUT_MS": String(Self.socketMilliseconds), "GATEWAY_RETRY_ATTEMPTS": "0",
                "GATEWAY_LOG_LEVEL": "warning",
            ])
        #expect(eventually { gateway.stat("idle") == 2 })
        let key = uniqueKey("deadline")
        let requests: [(String, String, String)] = [
            ("GET", "/cache/\(key)", ""), ("GET", "/get/\(key)", ""),
            ("POST", "/pipeline", #"[["SET","\#(key)","1"],["GET","\#(key)"]]"#),
            ("POST", "/multi-exec", #"[["INCR","\#(key):n"],["GET","\#(key):n"]]"#),
        ]
        #expect(redis.command(["CLIENT", "PAUSE", "4000", "ALL"]) == "+OK")
        let bound = Double(Self.waitMilliseconds + Self.socketMilliseconds) / 1000
        let outcomes = Mutex<[(target: String, status: Int, seconds: Double)]>([])
        // Six of each kind at once: the pool of 2 is full, the rest queue.
        let threads = (0..<24).map { index in
            TestThread {
                let (method, target, body) = requests[index % requests.count]
                let clock = ContinuousClock()
                let start = clock.now
                let response = HTTPTestClient(port: gateway.port).request(method, target, body: Array(body.utf8))
                let seconds = (clock.now - start).secondsDouble
                outcomes.withLock { $0.append((target, response?.status ?? -1, seconds)) }
            }
        }
        threads.forEach { $0.start() }
        threads.forEach { $0.join() }
        let all = outcomes.withLock { $0 }
        #expect(all.count == 24)
        // 150 ms for the two cores this test shares with the gateway and Redis.
        let late = all.filter { $0.seconds > bound + 0.15 }
        #expect(late.isEmpty, "answered later than arrival + \(bound) s: \(late)")
        let unclean = all.filter { $0.status != 503 && $0.status != 504 }
        #expect(unclean.isEmpty, "only 503 (no lease in time) or 504 (Redis did not answer): \(unclean)")
        for (_, target, _) in requests {
            #expect(all.contains { $0.target == target }, "\(target) was covered")
        }
        _ = redis.command(["CLIENT", "UNPAUSE"])
        _ = gateway.terminate()
    }

    /// `/pool/stats` `borrows` grows by exactly one per request, whichever kind of lease (retries off,
    /// no health checks: connections are fresh).
    @Test(.timeLimit(.minutes(2)))
    func borrowsGrowByExactlyTheNumberOfRequests() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(
            redisURL: redis.url, environment: ["GATEWAY_RETRY_ATTEMPTS": "0", "GATEWAY_LOG_LEVEL": "warning"])
        #expect(eventually { gateway.stat("idle") == 2 })
        let key = uniqueKey("borrows")
        // The first command request reads Redis' command list (and checks the scripts' rights)
        // with leases of its own: done before counting.
        #expect(HTTPTestClient(port: gateway.port).request("POST", "/INCR/\(key):warm")?.status == 200)
        let before = gateway.stat("borrows")
        let requests: [(String, String, String)] = [
            ("PUT", "/cache/\(key)", "v"), ("GET", "/cache/\(key)", ""), ("GET", "/get/\(key)", ""), ("POST", "/INCR/\(key):n", ""),
            ("POST", "/pipeline", #"[["GET","\#(key)"],["GET","\#(key)"]]"#), ("POST", "/multi-exec", #"[["GET","\#(key)"]]"#),
            ("DELETE", "/cache/\(key)", ""),
        ]
        let load = LoadRecorder(port: gateway.port, threads: 8) { n in requests[n % requests.count] }
        load.start()
        load.wait(until: 1.5)
        let samples = load.stop()
        let failed = samples.filter { $0.status >= 500 || $0.status < 200 }
        #expect(failed.isEmpty, "every request reached Redis: \(failed.prefix(3))")
        // `/pool/stats` reads no Redis: it takes no lease.
        #expect(
            gateway.stat("borrows") - before == samples.count, "\(gateway.stat("borrows") - before) borrows for \(samples.count) requests")
        _ = gateway.terminate()
    }

    /// The gateway's threads (`/proc/PID/task`) stay the fixed set while Redis is killed and
    /// restarted under load: no thread per request, re-send or dial.
    @Test(.timeLimit(.minutes(2)))
    func theThreadCountStaysFixedThroughARedisRestartUnderLoad() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(
            redisURL: redis.url, environment: ["GATEWAY_MAX_CONNECTIONS": "8", "GATEWAY_LOG_LEVEL": "warning"])
        #expect(eventually { gateway.stat("idle") == 2 })
        func threads() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(gateway.pid)/task").count) ?? -1 }
        let key = uniqueKey("threads")
        let requests: [(String, String, String)] = [
            ("GET", "/cache/\(key)", ""), ("PUT", "/cache/\(key)", "v"), ("POST", "/pipeline", #"[["GET","\#(key)"]]"#),
            ("POST", "/multi-exec", #"[["INCR","\#(key):n"]]"#),
        ]
        let load = LoadRecorder(port: gateway.port, threads: 8) { n in requests[n % requests.count] }
        load.start()
        load.wait(until: 0.5)
        let baseline = threads()
        var counts: [Int] = []
        redis.stop()  // SIGKILL
        let killedAt = load.now
        while load.now < killedAt + 1.0 {
            counts.append(threads())
            usleep(5000)
        }
        redis.start()
        let restartedAt = load.now
        while load.now < restartedAt + 1.5 {
            counts.append(threads())
            usleep(5000)
        }
        let samples = load.stop()
        #expect(samples.contains { $0.end > restartedAt && $0.status < 300 }, "requests succeed again after the restart")
        #expect(counts.allSatisfy { $0 == baseline }, "threads: baseline \(baseline), seen \(Set(counts).sorted())")
        _ = gateway.terminate()
    }
}
