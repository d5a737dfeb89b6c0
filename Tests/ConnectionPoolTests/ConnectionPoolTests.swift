import ConnectionPool
import Dispatch
import Synchronization
import TestSupport
import Testing

/// The blocking driver with mock connections and real threads.
@Suite struct ConnectionPoolTests {
    func pool(max: Int, wait: Duration = .seconds(2), healthCheck: Duration = .seconds(30), factory: MockFactory = MockFactory())
        -> ConnectionPool<MockFactory>
    {
        var configuration = PoolConfiguration()
        configuration.maxConnections = max
        configuration.waitTimeout = wait
        configuration.healthCheckInterval = healthCheck
        return ConnectionPool(configuration: configuration, factory: factory)
    }

    struct Boom: Error {}

    @Test func theConnectionComesBackWhenTheBodyThrows() {
        let pool = pool(max: 1)
        do {
            try pool.withConnection { (_: MockConnection) throws(Boom) in throw Boom() }
            Issue.record("expected a throw")
        } catch {
            guard case .operation = error else { Issue.record("expected the body's error"); return }
        }
        let stats = pool.statistics
        #expect(stats.inUse == 0 && stats.idle == 1 && stats.open == 1)
    }

    @Test func aConnectionThatIsNotReusableIsClosedNotReturned() throws {
        let factory = MockFactory()
        let pool = pool(max: 1, factory: factory)
        let first = try pool.withConnection { connection in
            connection.isReusable = false
            return connection
        }
        #expect(first.isClosed)
        let second = try pool.withConnection { $0 }
        #expect(second !== first)
        #expect(pool.statistics.discarded == 1)
        #expect(factory.counts.withLock { $0.live } == 1)
    }

    @Test func aFailedHealthCheckIsReplacedTransparently() throws {
        let pool = pool(max: 1, healthCheck: .zero)
        let first = try pool.withConnection { $0 }
        first.healthy = false
        let second = try pool.withConnection { $0 }
        #expect(first.isClosed && second !== first && first.healthChecks == 1)
        #expect(pool.statistics.healthCheckFailures == 1)
        #expect(pool.statistics.borrows == 2)
    }

    @Test func aConnectFailureFailsFastAndFreesTheSlot() throws {
        let factory = MockFactory()
        factory.counts.withLock { $0.failNext = 1 }
        let pool = pool(max: 1, factory: factory)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try pool.withConnection { $0 }
            Issue.record("expected connectFailed")
        } catch {
            guard case .pool(.connectFailed(let message, _)) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("refused"))
        }
        #expect(clock.now - start < .milliseconds(100))
        #expect(pool.statistics.open == 0 && pool.statistics.lastConnectError != nil)
        _ = try pool.withConnection { $0 }
    }

    @Test func theWaitTimeoutIsHonouredWithin100Milliseconds() throws {
        let pool = pool(max: 1, wait: .milliseconds(300))
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = TestThread {
            _ = try? pool.withConnection { _ in
                holding.signal()
                release.wait()
            }
        }
        holder.start()
        holding.wait()
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try pool.withConnection { $0 }
            Issue.record("expected a timeout")
        } catch {
            guard case .pool(.timeout(_, let stats)) = error else { Issue.record("got \(error)"); return }
            #expect(stats.inUse == 1 && stats.maxConnections == 1)
        }
        let waited = clock.now - start
        #expect(waited >= .milliseconds(300) && waited < .milliseconds(400), "waited \(waited)")
        release.signal()
        holder.join()
        #expect(pool.statistics.waitTimeouts == 1 && pool.statistics.inUse == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func manyThreadsNeverOpenMoreThanTheMaximumAndNoWaiterIsForgotten() {
        let factory = MockFactory()
        let observer = LongestWait()
        var configuration = PoolConfiguration()
        configuration.maxConnections = 3
        configuration.waitTimeout = .seconds(10)
        let pool = ConnectionPool(configuration: configuration, factory: factory, observer: observer)
        let failures = Atomic<Int>(0)
        let threads = (0..<32).map { _ in
            TestThread {
                for _ in 0..<500 {
                    do {
                        try pool.withConnection { _ in }
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        threads.forEach { $0.start() }
        threads.forEach { $0.join() }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(factory.counts.withLock { $0.maxLive } <= 3)
        let stats = pool.statistics
        #expect(stats.inUse == 0 && stats.waiting == 0 && stats.borrows == 32 * 500)
        // Bodies take microseconds, so no borrower should wait anywhere near the 10 s deadline: a
        // lost wake-up shows up as a wait that ends only at the deadline.
        #expect(observer.longest.withLock { $0 } < .seconds(1), "longest wait \(observer.longest.withLock { $0 })")
    }

    @Test func perRequestModeOpensAConnectionForEveryBorrow() throws {
        var configuration = PoolConfiguration()
        configuration.maxConnections = 2
        configuration.reuseConnections = false
        let factory = MockFactory()
        let pool = ConnectionPool(configuration: configuration, factory: factory)
        let first = try pool.withConnection { $0 }
        let second = try pool.withConnection { $0 }
        #expect(first !== second && first.isClosed && second.isClosed)
        #expect(factory.counts.withLock { $0.opened } == 2)
        #expect(pool.statistics.closed[.notReused] == 2 && pool.statistics.discarded == 0 && pool.statistics.open == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func waitsAndTimeoutsUnderHeavyContentionKeepTheCountsExact() {
        let pool = pool(max: 2, wait: .microseconds(300))
        let successes = Atomic<Int>(0)
        let timeouts = Atomic<Int>(0)
        let threads = (0..<16).map { _ in
            TestThread {
                for _ in 0..<2000 {
                    do {
                        try pool.withConnection { _ in for _ in 0..<50 { _ = PoolInstant.now() } }
                        successes.add(1, ordering: .relaxed)
                    } catch {
                        timeouts.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        threads.forEach { $0.start() }
        threads.forEach { $0.join() }
        let stats = pool.statistics
        #expect(successes.load(ordering: .relaxed) + timeouts.load(ordering: .relaxed) == 32000)
        #expect(stats.borrows == successes.load(ordering: .relaxed))
        #expect(stats.waitTimeouts == timeouts.load(ordering: .relaxed))
        #expect(stats.inUse == 0 && stats.waiting == 0 && stats.open <= 2)
    }

    @Test func shutDownClosesIdleConnectionsAndRefusesBorrows() throws {
        let pool = pool(max: 2)
        let connection = try pool.withConnection { $0 }
        pool.shutDown()
        #expect(connection.isClosed)
        do {
            _ = try pool.withConnection { $0 }
            Issue.record("expected shutDown")
        } catch {
            guard case .pool(.shutDown) = error else { Issue.record("got \(error)"); return }
        }
    }
}

/// Records the longest borrow wait.
final class LongestWait: ConnectionPoolObserver {
    let longest = Mutex<Duration>(.zero)
    func borrowFinished(waited: Duration, outcome: BorrowOutcome) { longest.withLock { $0 = max($0, waited) } }
    func connectionReturned(after duration: Duration) {}
    func connectionCreated(in duration: Duration) {}
    func connectFailed() {}
    func connectionClosed(reason: ConnectionCloseReason) {}
}
