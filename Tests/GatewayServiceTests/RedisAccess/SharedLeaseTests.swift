import ConnectionPool
import Foundation
import RedisClient
import Synchronization
import TestSupport
import Testing

@testable import GatewayService

/// Shared leases against a real Redis: concurrent requests share round trips on a shared connection,
/// each is one borrow and gets exactly its own replies, a Redis error reply stays with its command,
/// a dead Redis fails a round trip cleanly, and a request queued in the pool fails at its deadline.
@Suite struct SharedLeaseTests {
    func pool(
        _ redis: RedisServer, senders: Int = 1, maxConnections: Int = 2, waitTimeout: Duration = .seconds(2), maxReplyBytes: Int? = nil
    )
        throws -> RedisConnectionPool
    {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: redis.url)
        options.socketTimeout = .milliseconds(1000)
        if let maxReplyBytes { options.maxReplyBytes = maxReplyBytes }
        var configuration = PoolConfiguration()
        configuration.maxConnections = maxConnections
        configuration.waitTimeout = waitTimeout
        configuration.minIdle = 0
        configuration.maxSharedConnectionsPerGroup = senders
        return RedisConnectionPool(configuration: configuration, factory: RedisConnectionFactory(options: options))
    }

    func executor(
        _ redis: RedisServer, senders: Int = 1, maxConnections: Int = 2, waitTimeout: Duration = .seconds(2), maxReplyBytes: Int? = nil
    ) throws -> RedisExecutor {
        let pool = try pool(redis, senders: senders, maxConnections: maxConnections, waitTimeout: waitTimeout, maxReplyBytes: maxReplyBytes)
        return RedisExecutor(pool: pool, retry: RetryPolicy(), sharedIOThreads: senders)
    }

    /// A script (a write, to Redis' command table) that holds Redis for `microseconds`, answering nobody meanwhile.
    func spinning(microseconds: Int) -> RedisCommand {
        RedisCommand(
            "EVAL",
            "local t = redis.call('TIME'); local stop = t[1] * 1000000 + t[2] + \(microseconds) "
                + "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= stop return 1", "0")
    }

    /// Sends through the asynchronous path and waits for the completion (tests only).
    func send(_ executor: RedisExecutor, _ commands: [RedisCommand]) -> Result<[RedisValue], GatewayError> {
        let outcome = Mutex<Result<[RedisValue], GatewayError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        executor.execute(commands, label: "test") { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return outcome.withLock { $0! }
    }

    @Test(.timeLimit(.minutes(1)))
    func concurrentRequestsShareRoundTripsEachIsOneBorrowAndGetsItsOwnReplies() throws {
        let redis = RedisServer()
        let executor = try executor(redis)
        defer { executor.stop() }
        let prefix = uniqueKey("pipelined")
        redis.command(["SET", "\(prefix):string", "not a list"])
        let wrong = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        func readsProcessed() -> Int {
            Int(
                redis.command(["INFO", "stats"])?.split(separator: "\r\n").first { $0.hasPrefix("total_reads_processed:") }?
                    .split(separator: ":")[1] ?? "0") ?? 0
        }
        let before = readsProcessed()
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
        // One shared connection for the group; the second dial the first queued leases asked for
        // (two at once) parks idle.
        #expect(executor.statistics.open <= 2, "the writes group has one shared connection")
        #expect(executor.statistics.borrows == 16 * 300, "every request is exactly one lease: \(executor.statistics.borrows) borrows")
        let reads = readsProcessed() - before
        #expect(reads < 16 * 300, "requests shared round trips: Redis read \(reads) times for \(16 * 300) requests")
    }

    @Test(.timeLimit(.minutes(1)))
    func aRedisKilledMidBatchFailsItsRequestsCleanlyAndNeverMixesReplies() throws {
        let redis = RedisServer()
        let executor = try executor(redis, senders: 2)
        defer { executor.stop() }
        let prefix = uniqueKey("pipelined-kill")
        let wrong = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let succeeded = Atomic<Int>(0)
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
                        succeeded.add(1, ordering: .relaxed)
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
        #expect(eventually { succeeded.load(ordering: .relaxed) > 50 }, "the load runs before the kill")
        redis.stop()
        #expect(eventually { failed.load(ordering: .relaxed) > 0 }, "the load saw Redis gone")
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

    /// The one connection (the pool's maximum) carries a write that Redis holds for 1 s; a read
    /// (the other group) queues in the pool for a connection. The pool's timer fails it at its
    /// deadline (150 ms): without the timer it would wait for the write's connection to come back,
    /// and then succeed, at 1 s. (The bound leaves room for a busy machine running the suite.)
    @Test(.timeLimit(.minutes(1)))
    func aLeaseQueuedInThePoolFailsAtItsDeadlineWhileItsConnectionIsBusy() throws {
        let redis = RedisServer()
        let executor = try executor(redis, senders: 1, maxConnections: 1, waitTimeout: .milliseconds(150))
        defer { executor.stop() }
        let busy = TestThread { _ = send(executor, [spinning(microseconds: 1_000_000)]) }
        busy.start()
        #expect(eventually { executor.statistics.leasesInUse == 1 })
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = send(executor, [RedisCommand("GET", uniqueKey("queued"))])
        let took = clock.now - start
        guard case .failure(.pool(.timeout)) = outcome else {
            Issue.record("expected the pool's timeout, got \(outcome) after \(took)")
            return
        }
        #expect(
            took >= .milliseconds(140) && took < .milliseconds(700), "failed at its deadline, not when the connection came back: \(took)")
        busy.join()
    }

    /// A write that joins a shared connection while Redis holds that connection's round trip past
    /// the write's deadline is not sent: it fails with the pool's timeout at its deadline (the
    /// watch), not when the round trip ends, and Redis never runs it.
    /// Driven on `SharedConnectionIO` itself, so the write is sent only once the script's round
    /// trip is under way (awaiting the lease alone left a race: both could ride one round trip).
    @Test(.timeLimit(.minutes(1)))
    func aSharedLeaseWhoseDeadlinePassedBehindABusyConnectionIsNotSent() throws {
        let redis = RedisServer()
        let pool = try pool(redis, senders: 1, maxConnections: 1, waitTimeout: .milliseconds(150))
        let io = SharedConnectionIO(pool: pool, group: LeasePolicy.writes, name: "test", threads: 1)
        defer {
            io.stop()
            pool.shutDown()
        }
        let key = uniqueKey("late")
        let scriptDone = DispatchSemaphore(value: 0)
        io.send([spinning(microseconds: 1_000_000)], deadline: .now().advanced(by: .seconds(3))) { _ in scriptDone.signal() }
        #expect(eventually { io.roundTripsInFlight == 1 }, "the script's round trip is under way")
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = Mutex<SharedConnectionIO.Outcome?>(nil)
        let setDone = DispatchSemaphore(value: 0)
        io.send([RedisCommand("SET", key, "written")], deadline: .now().advanced(by: .milliseconds(150))) { result in
            outcome.withLock { $0 = result }
            setDone.signal()
        }
        setDone.wait()
        let took = clock.now - start
        guard case .failure(.pool(.timeout))? = outcome.withLock({ $0 }) else {
            Issue.record("expected the pool's timeout, got \(String(describing: outcome.withLock { $0 }))")
            return
        }
        #expect(took < .milliseconds(700), "failed at its deadline (150 ms), not when the round trip ended (1 s): \(took)")
        scriptDone.wait()
        #expect(redis.command(["EXISTS", key]) == ":0", "the late SET never reached Redis")
        let stats = pool.statistics
        // The late SET is a wait timeout, not a borrow: it never reached Redis.
        #expect(stats.borrows == 1 && stats.waitTimeouts == 1 && stats.leasesInUse == 0 && stats.sharedConnections == 0)
    }

    /// On a shared connection a request's replies still share one reply budget, as on a connection
    /// of its own: two 600-byte replies fail a 1000-byte budget together, each alone passes, and a
    /// request sharing the round trip is not charged for the other's.
    @Test(.timeLimit(.minutes(1)))
    func aRequestsRepliesShareOneBudgetOnASharedConnection() throws {
        let redis = RedisServer()
        let executor = try executor(redis, maxReplyBytes: 1000)
        defer { executor.stop() }
        let key = uniqueKey("budget")
        redis.command(["SET", key, String(repeating: "x", count: 600)])
        guard case .success(let one) = send(executor, [RedisCommand("GET", key)]) else {
            Issue.record("one reply fits the budget")
            return
        }
        #expect(one.count == 1)
        guard case .failure = send(executor, [RedisCommand("GET", key), RedisCommand("GET", key)]) else {
            Issue.record("two replies of one request share the budget: 1200 > 1000 bytes")
            return
        }
        #expect(executor.statistics.borrows == 2, "both took a shared lease")
    }
}
