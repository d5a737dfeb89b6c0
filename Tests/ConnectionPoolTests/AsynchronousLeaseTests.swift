import ConnectionPool
import Dispatch
import Foundation
import Synchronization
import Testing

/// `ConnectionPool.lease`: asynchronous leases with mock connections and real threads.
@Suite struct AsynchronousLeaseTests {
    typealias Lease = PoolLease<MockConnection>

    func pool(max: Int, wait: Duration = .seconds(2), healthCheck: Duration = .seconds(30)) -> ConnectionPool<MockFactory> {
        var configuration = PoolConfiguration()
        configuration.maxConnections = max
        configuration.waitTimeout = wait
        configuration.healthCheckInterval = healthCheck
        configuration.minIdle = 0
        configuration.maxSharedConnectionsPerGroup = 1
        return ConnectionPool(configuration: configuration, factory: MockFactory())
    }

    /// Leases and waits (in the test only) for the grant.
    func lease(
        _ pool: ConnectionPool<MockFactory>, _ kind: LeaseKind, deadline: PoolInstant, timeout: Double = 5
    ) -> Result<Lease, PoolError>? {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<Lease, PoolError>?>(nil)
        pool.lease(kind, label: "test", deadline: deadline) { granted in
            result.withLock { $0 = granted }
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success else { return nil }
        return result.withLock { $0 }
    }

    @Test func sharedLeasesShareOneConnectionAndEachIsABorrow() throws {
        let pool = pool(max: 2)
        let deadline = PoolInstant.now().advanced(by: .seconds(2))
        let first = try #require(try lease(pool, .shared(group: 0), deadline: deadline)?.get())
        let second = try #require(try lease(pool, .shared(group: 0), deadline: deadline)?.get())
        #expect(first.connection === second.connection)
        #expect(pool.statistics.borrows == 2 && pool.statistics.leasesInUse == 2 && pool.statistics.open == 1)
        pool.giveBack([first, second])
        #expect(pool.statistics.leasesInUse == 0 && pool.statistics.idle == 1)
        pool.shutDown()
    }

    /// The timer fails a queued lease at its deadline although no connection ever comes back: the
    /// only connection is held exclusively for the whole test. Without the timer the grant would
    /// never come (the test's own 5 s wait would fail first).
    @Test func aQueuedLeaseFailsAtItsDeadlineWhileNothingComesBack() throws {
        let pool = pool(max: 1)
        let held = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? pool.withConnection { (_: MockConnection) in
                holding.signal()
                held.wait()
            }
        }
        holding.wait()
        let start = PoolInstant.now()
        let deadline = start.advanced(by: .milliseconds(300))
        let outcome = lease(pool, .shared(group: 0), deadline: deadline)
        let finished = PoolInstant.now()
        guard case .failure(.timeout)? = outcome else { Issue.record("expected a timeout, got \(String(describing: outcome))"); return }
        #expect(finished >= deadline, "not before its deadline")
        #expect(finished.duration(since: deadline) < .milliseconds(250), "at its deadline, not when a connection frees")
        #expect(pool.statistics.waitTimeouts == 1 && pool.statistics.waiting == 0)
        held.signal()
        pool.shutDown()
    }

    @Test func aStaleIdleConnectionIsCheckedOffTheCallersThreadBeforeTheLease() throws {
        let pool = pool(max: 1, healthCheck: .zero)
        let first = try #require(try lease(pool, .shared(group: 0), deadline: .now().advanced(by: .seconds(2)))?.get())
        pool.giveBack([first])
        first.connection.healthy = false
        let second = try #require(try lease(pool, .shared(group: 0), deadline: .now().advanced(by: .seconds(2)))?.get())
        #expect(second.connection !== first.connection && first.connection.isClosed)
        #expect(pool.statistics.healthCheckFailures == 1 && pool.statistics.borrows == 2)
        pool.giveBack([second])
        pool.shutDown()
    }

    @Test func scheduledWorkRunsOnTheTimerWhenDue() {
        let pool = pool(max: 1)
        let ran = DispatchSemaphore(value: 0)
        let at = PoolInstant.now().advanced(by: .milliseconds(100))
        let when = Mutex<PoolInstant?>(nil)
        pool.schedule(at: at) {
            when.withLock { $0 = .now() }
            ran.signal()
        }
        #expect(ran.wait(timeout: .now() + 5) == .success)
        #expect(when.withLock { $0 }.map { $0 >= at } == true)
        pool.shutDown()
    }
}
