import ConnectionPool
import Foundation
import GatewayService
import RedisClient
import Synchronization
import TestSupport
import Testing

/// Group commit against a real Redis: concurrent requests share round trips, each gets exactly its
/// own replies, a Redis error reply stays with its command, a dead Redis fails a batch cleanly, and a
/// request nobody takes along gives up at its deadline.
@Suite struct CommandCoalescerTests {
    func executor(_ redis: RedisServer, senders: Int = 1, maxConnections: Int = 2, waitTimeout: Duration = .seconds(2)) throws
        -> RedisExecutor
    {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: redis.url)
        options.socketTimeout = .milliseconds(1000)
        var configuration = PoolConfiguration()
        configuration.maxConnections = maxConnections
        configuration.waitTimeout = waitTimeout
        configuration.minIdle = 0
        let pool = RedisConnectionPool(configuration: configuration, factory: RedisConnectionFactory(options: options))
        return RedisExecutor(pool: pool, retry: RetryPolicy(), coalescingSenders: senders)
    }

    @Test(.timeLimit(.minutes(1)))
    func concurrentRequestsShareRoundTripsAndEachGetsItsOwnReplies() throws {
        let redis = RedisServer()
        let executor = try executor(redis)
        let prefix = uniqueKey("coalesce")
        redis.command(["SET", "\(prefix):string", "not a list"])
        let wrong = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let threads = (0..<16).map { thread in
            TestThread {
                for n in 0..<300 {
                    let key = "\(prefix):\(thread):\(n)"
                    do throws(GatewayError) {
                        // SET then GET of a key only this request knows, plus a command Redis refuses.
                        let replies = try executor.pipeline(
                            [
                                RedisCommand("SET", key, "v\(thread)-\(n)"), RedisCommand("LPUSH", "\(prefix):string", "x"),
                                RedisCommand("GET", key),
                            ],
                            label: "test")
                        let ok =
                            replies.count == 3 && replies[0] == .status("OK")
                            && replies[1].errorMessage?.hasPrefix("WRONGTYPE") == true && replies[2] == .bulk(Array("v\(thread)-\(n)".utf8))
                        if !ok { wrong.add(1, ordering: .relaxed) }
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        threads.forEach { $0.start() }
        threads.forEach { $0.join() }
        #expect(wrong.load(ordering: .relaxed) == 0, "every request got exactly its own replies")
        #expect(failures.load(ordering: .relaxed) == 0)
        let (requests, batches) = executor.coalescing
        #expect(requests == 16 * 300)
        #expect(batches < requests, "concurrent requests shared round trips: \(requests) requests in \(batches) batches")
        #expect(executor.statistics.open <= 1, "one sender at a time needs one connection")
    }

    @Test(.timeLimit(.minutes(1)))
    func aRedisKilledMidBatchFailsItsRequestsCleanlyAndNeverMixesReplies() throws {
        let redis = RedisServer()
        let executor = try executor(redis, senders: 2)
        let prefix = uniqueKey("coalesce-kill")
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
                    do throws(GatewayError) {
                        let replies = try executor.pipeline([RedisCommand("SET", key, key), RedisCommand("GET", key)], label: "test")
                        if replies.count != 2 || replies[1] != .bulk(Array(key.utf8)) { wrong.add(1, ordering: .relaxed) }
                        if restarted.load(ordering: .relaxed) { succeededAfterRestart.add(1, ordering: .relaxed) }
                    } catch {
                        switch error {
                        case .pool, .redis: failed.add(1, ordering: .relaxed)
                        default: wrong.add(1, ordering: .relaxed)
                        }
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
        #expect(succeededAfterRestart.load(ordering: .relaxed) > 0, "requests succeed again after the restart")
        #expect(executor.statistics.inUse == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func aQueuedRequestThatNoSenderTakesGivesUpAtItsDeadline() throws {
        let redis = RedisServer()
        let executor = try executor(redis, senders: 1, waitTimeout: .milliseconds(150))
        // The only sender is busy for 500 ms with a script that spins (Redis answers nobody meanwhile).
        let script =
            "local t = redis.call('TIME'); local stop = t[1] * 1000000 + t[2] + 500000 "
            + "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= stop return 1"
        let busy = TestThread { _ = try? executor.send(RedisCommand("EVAL", script, "0"), label: "busy") }
        busy.start()
        #expect(eventually { executor.statistics.inUse == 1 })
        let clock = ContinuousClock()
        let start = clock.now
        #expect {
            try executor.send(RedisCommand("GET", uniqueKey("queued")), label: "queued")
        } throws: { error in
            guard case GatewayError.pool(.timeout) = error else { return false }
            return true
        }
        #expect(clock.now - start < .milliseconds(400), "failed at its own deadline, not after the busy batch")
        busy.join()
    }
}
