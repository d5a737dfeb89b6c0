import ConnectionPool
import Foundation
import GatewayService
import RedisClient
import Synchronization
import TestSupport
import Testing

/// The asynchronous request path against a real Redis: concurrent requests share round trips on the
/// pipelined senders, each gets exactly its own replies, a Redis error reply stays with its command,
/// a dead Redis fails a batch cleanly, and a request no sender reaches in time fails at its deadline.
@Suite struct PipelinedSenderTests {
    func executor(_ redis: RedisServer, senders: Int = 1, maxConnections: Int = 2, waitTimeout: Duration = .seconds(2))
        throws -> RedisExecutor
    {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: redis.url)
        options.socketTimeout = .milliseconds(1000)
        var configuration = PoolConfiguration()
        configuration.maxConnections = maxConnections
        configuration.waitTimeout = waitTimeout
        configuration.minIdle = 0
        let pool = RedisConnectionPool(configuration: configuration, factory: RedisConnectionFactory(options: options))
        return RedisExecutor(pool: pool, retry: RetryPolicy(), pipelinedSenders: senders)
    }

    /// Sends through the asynchronous path and waits for the completion (tests only).
    func send(_ executor: RedisExecutor, _ commands: [RedisCommand]) -> Result<[RedisValue], GatewayError> {
        let outcome = Mutex<Result<[RedisValue], GatewayError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        executor.pipeline(commands, label: "test") { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return outcome.withLock { $0! }
    }

    @Test(.timeLimit(.minutes(1)))
    func concurrentRequestsShareRoundTripsAndEachGetsItsOwnReplies() throws {
        let redis = RedisServer()
        let executor = try executor(redis)
        defer { executor.stop() }
        let prefix = uniqueKey("pipelined")
        redis.command(["SET", "\(prefix):string", "not a list"])
        let wrong = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let before =
            Int(
                redis.command(["INFO", "stats"])?.split(separator: "\r\n").first { $0.hasPrefix("total_commands_processed:") }?
                    .split(separator: ":")[1] ?? "0") ?? 0
        let threads = (0..<16).map { thread in
            TestThread {
                for n in 0..<300 {
                    let key = "\(prefix):\(thread):\(n)"
                    // SET then GET of a key only this request knows, and a command Redis refuses between them.
                    switch send(
                        executor,
                        [
                            RedisCommand("SET", key, "v\(thread)-\(n)"), RedisCommand("LPUSH", "\(prefix):string", "x"),
                            RedisCommand("GET", key),
                        ])
                    {
                    case .success(let replies):
                        let ok =
                            replies.count == 3 && replies[0] == .status("OK")
                            && replies[1].errorMessage?.hasPrefix("WRONGTYPE") == true && replies[2] == .bulk(Array("v\(thread)-\(n)".utf8))
                        if !ok { wrong.add(1, ordering: .relaxed) }
                    case .failure:
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        threads.forEach { $0.start() }
        threads.forEach { $0.join() }
        #expect(wrong.load(ordering: .relaxed) == 0, "every request got exactly its own replies")
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(executor.statistics.open <= 1, "one sender needs one connection at a time")
        #expect(executor.statistics.borrows < 16 * 300, "requests shared round trips: \(executor.statistics.borrows) borrows")
        _ = before
    }

    @Test(.timeLimit(.minutes(1)))
    func aRedisKilledMidBatchFailsItsRequestsCleanlyAndNeverMixesReplies() throws {
        let redis = RedisServer()
        let executor = try executor(redis, senders: 2)
        defer { executor.stop() }
        let prefix = uniqueKey("pipelined-kill")
        let wrong = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let succeededAfterRestart = Atomic<Int>(0)
        let restarted = Atomic<Bool>(false)
        let running = Atomic<Bool>(true)
        let threads = (0..<8).map { thread in
            TestThread {
                var n = 0
                while running.load(ordering: .relaxed) {
                    n += 1
                    let key = "\(prefix):\(thread):\(n)"
                    switch send(executor, [RedisCommand("SET", key, key), RedisCommand("GET", key)]) {
                    case .success(let replies):
                        if replies.count != 2 || replies[1] != .bulk(Array(key.utf8)) { wrong.add(1, ordering: .relaxed) }
                        if restarted.load(ordering: .relaxed) { succeededAfterRestart.add(1, ordering: .relaxed) }
                    case .failure(.pool), .failure(.redis):
                        failed.add(1, ordering: .relaxed)
                    case .failure:
                        wrong.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        threads.forEach { $0.start() }
        usleep(50_000)
        redis.stop()
        usleep(200_000)
        redis.start()
        restarted.store(true, ordering: .relaxed)
        _ = eventually(within: .seconds(10)) { succeededAfterRestart.load(ordering: .relaxed) > 100 }
        running.store(false, ordering: .relaxed)
        threads.forEach { $0.join() }
        #expect(wrong.load(ordering: .relaxed) == 0, "no request ever saw another's reply or an unclean error")
        #expect(failed.load(ordering: .relaxed) > 0, "the kill was felt")
        #expect(succeededAfterRestart.load(ordering: .relaxed) > 100, "requests succeed again after the restart")
        #expect(eventually { executor.statistics.inUse == 0 })
    }

    @Test(.timeLimit(.minutes(1)))
    func aQueuedRequestThatNoSenderReachesInTimeFailsAtItsDeadline() throws {
        let redis = RedisServer()
        let executor = try executor(redis, senders: 1, waitTimeout: .milliseconds(150))
        defer { executor.stop() }
        // The only sender is busy for 500 ms with a script that spins (Redis answers nobody meanwhile).
        let script =
            "local t = redis.call('TIME'); local stop = t[1] * 1000000 + t[2] + 500000 "
            + "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= stop return 1"
        let busy = TestThread { _ = send(executor, [RedisCommand("EVAL", script, "0")]) }
        busy.start()
        #expect(eventually { executor.statistics.inUse == 1 })
        let clock = ContinuousClock()
        let start = clock.now
        guard case .failure(.pool(.timeout)) = send(executor, [RedisCommand("GET", uniqueKey("queued"))]) else {
            Issue.record("expected the pool's timeout")
            return
        }
        #expect(clock.now - start < .milliseconds(700), "failed once the sender came back, not after its own next batch")
        busy.join()
    }
}
