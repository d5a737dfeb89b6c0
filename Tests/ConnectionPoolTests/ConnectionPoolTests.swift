import ConnectionPool
import Dispatch
import Glibc
import Synchronization
import TestSupport
import Testing

/// The blocking driver with mock connections and real threads.
@Suite struct ConnectionPoolTests {
    func pool(
        max: Int, wait: Duration = .seconds(2), healthCheck: Duration = .seconds(30), factory: MockFactory = MockFactory(),
        observer: any ConnectionPoolObserver = NoPoolObserver(), configure: (inout PoolConfiguration) -> Void = { _ in }
    ) -> ConnectionPool<MockFactory> {
        var configuration = PoolConfiguration()
        configuration.maxConnections = max
        configuration.waitTimeout = wait
        configuration.healthCheckInterval = healthCheck
        configuration.minIdle = 0
        configure(&configuration)
        return ConnectionPool(configuration: configuration, factory: factory, observer: observer)
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

    @Test func whileTheServerIsDownBorrowsFailAtOnceUntilOneProbeSeesItBack() throws {
        let factory = MockFactory()
        factory.counts.withLock { $0.failing = true }
        let pool = pool(max: 4, factory: factory) {
            $0.reconnectBackoff = .milliseconds(20); $0.reconnectBackoffCap = .milliseconds(40)
        }
        defer { pool.shutDown() }
        let clock = ContinuousClock()
        do {
            _ = try pool.withConnection { $0 }
            Issue.record("expected unavailable")
        } catch {
            guard case .pool(.unavailable(_, let message, _)) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("refused"))
        }
        let start = clock.now
        for _ in 0..<1000 {
            guard case .unavailable? = poolFailure(pool) else {
                Issue.record("expected a fast failure"); return
            }
        }
        #expect(clock.now - start < .milliseconds(500), "1000 borrows while down took \(clock.now - start)")
        #expect(eventually { pool.statistics.probes >= 3 }, "probes keep running in the background")
        #expect(factory.counts.withLock { $0.maxDialling } == 1, "one dial at a time while down")
        factory.counts.withLock { $0.failing = false }
        #expect(eventually { pool.availability == .up })
        _ = try pool.withConnection { $0 }
        let stats = pool.statistics
        #expect(stats.outages == 1 && stats.recoveries == 1 && stats.fastFailures >= 1000)
    }

    @Test func minIdleConnectionsAreOpenedAtStartWithoutABorrow() {
        let factory = MockFactory()
        let pool = pool(max: 8, factory: factory) { $0.minIdle = 3 }
        defer { pool.shutDown() }
        #expect(eventually { pool.statistics.idle == 3 })
        #expect(factory.counts.withLock { $0.opened } == 3)
    }

    @Test func atMostTheConfiguredNumberOfDialsRunAtOnce() {
        let factory = MockFactory()
        factory.counts.withLock { $0.dialDelayMicroseconds = 20_000 }
        let pool = pool(max: 12, factory: factory) { $0.maxConcurrentDials = 2 }
        defer { pool.shutDown() }
        let threads = (0..<12).map { _ in TestThread { _ = try? pool.withConnection { _ in usleepMilliseconds(50) } } }
        threads.forEach { $0.start() }
        threads.forEach { $0.join() }
        #expect(factory.counts.withLock { $0.maxDialling } == 2)
        #expect(pool.statistics.borrows == 12 && pool.statistics.inUse == 0)
    }

    @Test func aDialWhoseBorrowerGaveUpIsKeptForTheNextBorrower() throws {
        let factory = MockFactory()
        factory.counts.withLock { $0.dialDelayMicroseconds = 100_000 }
        let pool = pool(max: 1, wait: .milliseconds(20), factory: factory)
        defer { pool.shutDown() }
        guard case .timeout? = poolFailure(pool) else {
            Issue.record("expected a timeout"); return
        }
        #expect(eventually { pool.statistics.idle == 1 })
        _ = try pool.withConnection { $0 }
        #expect(factory.counts.withLock { $0.attempts } == 1, "the abandoned dial was used, not repeated")
    }

    @Test func aBorrowHeldTooLongIsReportedOnceWithItsLabel() throws {
        let observer = EventRecorder()
        let pool = pool(max: 1, observer: observer) {
            $0.leakDetectionThreshold = .milliseconds(30)
            $0.maintenanceInterval = .milliseconds(5)
        }
        defer { pool.shutDown() }
        try pool.withConnection(label: "PUT /cache/{key}") { _ in
            #expect(eventually { !observer.leaks.withLock { $0 }.isEmpty })
            usleepMilliseconds(30)
        }
        let leaks = observer.leaks.withLock { $0 }
        #expect(leaks.count == 1 && leaks[0].label == "PUT /cache/{key}" && leaks[0].heldFor >= .milliseconds(30))
        #expect(pool.statistics.leaksDetected == 1)
    }

    @Test func expiredAndSurplusIdleConnectionsAreClosedInTheBackground() throws {
        let pool = pool(max: 2) {
            $0.maxLifetime = .milliseconds(50)
            $0.maintenanceInterval = .milliseconds(5)
        }
        defer { pool.shutDown() }
        let first = try pool.withConnection { $0 }
        #expect(eventually { first.isClosed })
        #expect(pool.statistics.closed[.expired] == 1 && pool.statistics.open == 0)
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
        // Within the one deadline (twice it would be a second wait), with room for a busy machine.
        #expect(waited >= .milliseconds(300) && waited < .milliseconds(550), "waited \(waited)")
        release.signal()
        holder.join()
        #expect(pool.statistics.waitTimeouts == 1 && pool.statistics.inUse == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func manyThreadsNeverOpenMoreThanTheMaximumAndNoWaiterIsForgotten() {
        let factory = MockFactory()
        let observer = EventRecorder()
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
        let lent = Mutex<Set<ObjectIdentifier>>([])
        let doubleLends = Atomic<Int>(0)
        let threads = (0..<16).map { _ in
            TestThread {
                for _ in 0..<2000 {
                    do {
                        try pool.withConnection { connection in
                            // A connection lent to two borrowers at once would be a pool bug.
                            if !lent.withLock({ $0.insert(ObjectIdentifier(connection)).inserted }) {
                                doubleLends.add(1, ordering: .relaxed)
                            }
                            for _ in 0..<50 { _ = PoolInstant.now() }
                            _ = lent.withLock { $0.remove(ObjectIdentifier(connection)) }
                        }
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
        #expect(doubleLends.load(ordering: .relaxed) == 0, "no connection is ever lent to two borrowers at once")
        #expect(successes.load(ordering: .relaxed) > 0 && timeouts.load(ordering: .relaxed) > 0, "the contention really happened")
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

/// Records the longest borrow wait and the leak reports.
final class EventRecorder: ConnectionPoolObserver {
    let longest = Mutex<Duration>(.zero)
    let leaks = Mutex<[LeakReport]>([])
    func borrowFinished(waited: Duration, outcome: BorrowOutcome) { longest.withLock { $0 = max($0, waited) } }
    func connectionReturned(after duration: Duration) {}
    func connectionCreated(in duration: Duration) {}
    func connectFailed(message: String) {}
    func connectionClosed(reason: ConnectionCloseReason) {}
    func poolWentDown(error: String) {}
    func poolRecovered(after downtime: Duration) {}
    func leakDetected(_ report: LeakReport) { leaks.withLock { $0.append(report) } }
    func stallBegan() {}
    func stallEnded(after duration: Duration) {}
}

func usleepMilliseconds(_ milliseconds: UInt32) {
    usleep(milliseconds * 1000)
}

/// The pool's error for one borrow, nil when it lent a connection.
func poolFailure(_ pool: ConnectionPool<MockFactory>) -> PoolError? {
    do {
        _ = try pool.withConnection { $0 }
        return nil
    } catch {
        guard case .pool(let error) = error else { return nil }
        return error
    }
}
