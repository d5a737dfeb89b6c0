import ConnectionPool
import Testing

/// Shared and exclusive leases in the one state machine, on the mock clock.
@Suite struct SharedLeaseStateMachineTests {
    typealias Machine = PoolStateMachine<MockConnection>

    let t0 = PoolInstant(nanoseconds: 1_000_000_000)
    func at(_ seconds: Double) -> PoolInstant { t0.advanced(by: .nanoseconds(Int64(seconds * 1e9))) }

    func machine(max: Int = 2, perGroup: Int = 1, streams: Int = 4) -> Machine {
        var configuration = PoolStateMachineTests.configuration(max: max)
        configuration.maxSharedConnectionsPerGroup = perGroup
        configuration.maxStreamsPerConnection = streams
        return Machine(configuration: configuration)
    }

    /// Opens `connection` for a shared lease of `group`: the first shared borrow queues, the dial
    /// hands it the connection.
    func openShared(_ m: inout Machine, _ connection: MockConnection, group: Int = 0, streams: Int = 1) {
        guard case .wait(let waiter)? = m.borrow(now: t0, label: "s", kind: .shared(group: group), streams: streams).borrower else {
            Issue.record("expected the first shared lease to wait for a dial")
            return
        }
        #expect(m.dialSucceeded(connection, now: t0, jitter: 0).wake == [waiter])
        guard case .connection(let handed)? = m.collect(waiter) else { Issue.record("expected a handoff"); return }
        #expect(handed === connection)
    }

    func sharedUse(_ m: inout Machine, group: Int = 0, streams: Int = 1, now: PoolInstant? = nil) -> MockConnection? {
        guard
            case .use(let connection, needsHealthCheck: false)? = m.borrow(
                now: now ?? t0, label: "s", kind: .shared(group: group), streams: streams
            ).borrower
        else { return nil }
        return connection
    }

    @Test func sharedLeasesOfAGroupRideOneConnectionAndEachCountsAsABorrow() {
        var m = machine()
        let a = MockConnection(id: 1)
        openShared(&m, a)
        #expect(sharedUse(&m) === a)
        #expect(sharedUse(&m) === a)
        let stats = m.statistics
        #expect(stats.borrows == 3 && stats.leasesInUse == 3 && stats.inUse == 1 && stats.sharedConnections == 1 && stats.open == 1)
        // Two come back: the connection stays shared; the last one returns it to idle.
        #expect(m.release(a, reusable: true, now: t0, streams: 2, leases: 2).close.isEmpty)
        #expect(m.statistics.leasesInUse == 1 && m.statistics.idle == 0)
        _ = m.release(a, reusable: true, now: t0)
        #expect(m.statistics.leasesInUse == 0 && m.statistics.idle == 1 && m.statistics.sharedConnections == 0)
    }

    @Test func sharedAndExclusiveLeasesInterleaveUnderTheOneBound() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1)
        openShared(&m, a)
        // An exclusive borrow never gets the shared connection: it waits for a dial of its own.
        guard case (.wait(let exclusive), 1) = m.borrow(now: t0, label: "x").stepAndDials else {
            Issue.record("an exclusive lease waits for a connection of its own"); return
        }
        let b = MockConnection(id: 2)
        #expect(m.dialSucceeded(b, now: t0, jitter: 0).wake == [exclusive])
        guard case .connection(let handed)? = m.collect(exclusive) else { Issue.record("expected b"); return }
        #expect(handed === b)
        // Another group (writes) finds the pool full: it queues behind nothing else and no dial starts.
        guard case (.wait(let writes), 0) = m.borrow(now: t0, label: "w", kind: .shared(group: 1)).stepAndDials else {
            Issue.record("a full pool queues the other group"); return
        }
        // Reads still join their connection meanwhile.
        #expect(sharedUse(&m) === a)
        // The exclusive lease comes back: the waiting writer gets b, for sharing.
        #expect(m.release(b, reusable: true, now: t0).wake == [writes])
        guard case .connection(let shared)? = m.collect(writes) else { Issue.record("expected b for writes"); return }
        #expect(shared === b)
        #expect(sharedUse(&m, group: 1) === b)
        #expect(m.statistics.sharedConnections == 2 && m.statistics.leasesInUse == 4 && m.statistics.open == 2)
        // An exclusive borrow now waits until a shared connection drains entirely.
        guard case (.wait(let next), 0) = m.borrow(now: t0, label: "x").stepAndDials else { Issue.record("expected wait"); return }
        #expect(m.release(a, reusable: true, now: t0).wake.isEmpty, "a still carries a read lease")
        #expect(m.release(a, reusable: true, now: t0).wake == [next])
    }

    @Test func theInFlightBoundHoldsAndAReleaseAdmitsTheQueuedLeasesThatFit() {
        var m = machine(max: 1, streams: 4)
        let a = MockConnection(id: 1)
        openShared(&m, a, streams: 2)
        #expect(sharedUse(&m, streams: 2) === a)
        // Full (4 of 4 streams), and the pool may not open another: these queue.
        guard case .wait(let w1)? = m.borrow(now: t0, label: "s", kind: .shared(group: 0), streams: 3).borrower,
            case .wait(let w2)? = m.borrow(now: t0, label: "s", kind: .shared(group: 0), streams: 1).borrower
        else { Issue.record("leases beyond the bound queue"); return }
        // Two streams come back: 3 do not fit yet, and the one behind it waits its turn (FIFO).
        #expect(m.release(a, reusable: true, now: t0, streams: 2).wake.isEmpty)
        // The rest come back: the connection is free, both fit (3 + 1).
        let action = m.release(a, reusable: true, now: t0, streams: 2)
        #expect(action.wake == [w1, w2])
        #expect(m.statistics.leasesInUse == 2 && m.statistics.waiting == 0)
        #expect(sharedUse(&m) == nil, "4 of 4 streams in flight: no room for another")
    }

    @Test func aBrokenSharedConnectionFailsEachLeaseOnceAndIsClosedAfterTheLast() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1)
        openShared(&m, a)
        _ = sharedUse(&m)
        _ = sharedUse(&m)
        // The first lease finds it broken: no new lease joins it, and it is not closed under the others.
        let first = m.release(a, reusable: false, now: t0, closeReason: .broken)
        #expect(first.close.isEmpty)
        guard case (.wait, 1) = m.borrow(now: t0, label: "s", kind: .shared(group: 0)).stepAndDials else {
            Issue.record("a new lease must not join a broken connection"); return
        }
        #expect(m.release(a, reusable: false, now: t0, closeReason: .broken).close.isEmpty)
        let last = m.release(a, reusable: true, now: t0)
        #expect(last.close.count == 1 && last.close.first?.0 === a && last.close.first?.1 == .broken)
        #expect(m.statistics.closed[.broken] == 1, "closed once, after its last lease")
    }

    @Test func aQueuedLeaseFailsAtItsDeadlineAndNotBefore() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        openShared(&m, a)  // writes cannot get a connection: the one is shared by reads
        guard case .wait(let w)? = m.borrow(now: t0, label: "w", kind: .shared(group: 1), deadline: at(1)).borrower else {
            Issue.record("expected wait"); return
        }
        #expect(m.nextWaiterDeadline == at(1))
        #expect(m.expireWaiters(now: at(0.999)).wake.isEmpty)
        #expect(m.expireWaiters(now: at(1)).wake == [w])
        guard case .failure(.timeout)? = m.collect(w) else { Issue.record("expected a timeout"); return }
        #expect(m.statistics.waitTimeouts == 1 && m.statistics.waiting == 0 && m.nextWaiterDeadline == nil)
        // The connection coming back later finds no one to hand itself to.
        #expect(m.release(a, reusable: true, now: at(2)).wake.isEmpty && m.statistics.idle == 1)
    }

    @Test func aSharedConnectionPastItsLifetimeOrInvalidatedTakesNoNewLease() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1)
        openShared(&m, a)
        _ = m.invalidateAll(now: t0)
        guard case (.wait, 1) = m.borrow(now: t0, label: "s", kind: .shared(group: 0)).stepAndDials else {
            Issue.record("an invalidated connection takes no new lease"); return
        }
        let back = m.release(a, reusable: true, now: t0)
        #expect(back.close.first?.1 == .invalidated)
        // Past its (jittered) lifetime: 100 s here.
        var n = machine(max: 2)
        let b = MockConnection(id: 2)
        openShared(&n, b)
        #expect(sharedUse(&n, now: at(99)) === b)
        guard case .wait? = n.borrow(now: at(100), label: "s", kind: .shared(group: 0)).borrower else {
            Issue.record("an expired connection takes no new lease"); return
        }
    }

    @Test func aSharedLeaseOfAStaleIdleConnectionIsCheckedAndNoOtherJoinsUntilItPasses() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1)
        openShared(&m, a)
        _ = m.release(a, reusable: true, now: t0)
        guard case .use(let checked, needsHealthCheck: true)? = m.borrow(now: at(31), label: "s", kind: .shared(group: 0)).borrower else {
            Issue.record("idle past the interval: checked first"); return
        }
        #expect(checked === a)
        guard case .wait(let w)? = m.borrow(now: at(31), label: "s", kind: .shared(group: 0)).borrower else {
            Issue.record("no lease joins a connection under its check"); return
        }
        #expect(m.sharedHealthCheckPassed(a, now: at(31)).wake == [w])
        #expect(m.statistics.leasesInUse == 2 && m.statistics.sharedConnections == 1)
    }

    @Test func aFailedCheckOfASharedConnectionUncountsItsLease() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1)
        openShared(&m, a)
        _ = m.release(a, reusable: true, now: t0)
        let before = m.statistics.borrows
        guard case .use(_, needsHealthCheck: true)? = m.borrow(now: at(31), label: "s", kind: .shared(group: 0)).borrower else {
            Issue.record("expected a check"); return
        }
        #expect(m.healthCheckFailed(a, timedOut: false, now: at(31)).close.first?.0 === a)
        #expect(m.statistics.borrows == before && m.statistics.leasesInUse == 0 && m.statistics.open == 0)
    }

    @Test func withSharingOffASharedLeaseIsExclusive() {
        var m = machine(max: 2, perGroup: 0)
        let a = MockConnection(id: 1)
        openShared(&m, a)
        guard case (.wait, 1) = m.borrow(now: t0, label: "s", kind: .shared(group: 0)).stepAndDials else {
            Issue.record("no sharing: the second lease needs a connection of its own"); return
        }
        #expect(m.statistics.sharedConnections == 0 && m.statistics.inUse == 1)
    }

    /// Reads wait for their group's broken shared connection to drain; meanwhile an idle connection
    /// serves an exclusive borrower (it must not queue behind readers that cannot take it), and
    /// once the broken one closes, the idle one goes to the readers.
    @Test func anIdleConnectionIsNeverLeftUnusedWhileABorrowerThatCanTakeItWaits() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1)
        let b = MockConnection(id: 2)
        openShared(&m, a)
        _ = sharedUse(&m)
        // b: opened for an exclusive borrower, then idle.
        guard case .wait(let x)? = m.borrow(now: t0, label: "x").borrower else { Issue.record("expected wait"); return }
        #expect(m.dialSucceeded(b, now: t0, jitter: 0).wake == [x])
        _ = m.collect(x)
        _ = m.release(b, reusable: true, now: t0)
        // a comes back broken from one lease; the other still holds it.
        _ = m.release(a, reusable: false, now: t0, closeReason: .broken)
        guard case .wait(let reader)? = m.borrow(now: t0, label: "r", kind: .shared(group: 0)).borrower else {
            Issue.record("the reader waits: its group's one shared connection is broken")
            return
        }
        guard case .use(let handed, _)? = m.borrow(now: t0, label: "x").borrower else {
            Issue.record("the exclusive borrower takes the idle connection the reader cannot")
            return
        }
        #expect(handed === b)
        _ = m.release(b, reusable: true, now: t0)
        // The broken one drains and closes: the reader gets the idle one.
        let last = m.release(a, reusable: true, now: t0)
        #expect(last.close.first?.0 === a && last.wake == [reader])
        guard case .connection(let served)? = m.collect(reader) else { Issue.record("expected b"); return }
        #expect(served === b && m.statistics.sharedConnections == 1)
    }

    @Test func leasesThatNeverUsedTheirConnectionAreWaitTimeoutsNotBorrows() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        openShared(&m, a)
        _ = sharedUse(&m, streams: 2)
        _ = m.releaseUnused(a, streams: 2, leases: 1, now: t0)
        let stats = m.statistics
        #expect(stats.borrows == 1 && stats.waitTimeouts == 1 && stats.leasesInUse == 1)
        _ = m.release(a, reusable: true, now: t0)
        #expect(m.statistics.idle == 1 && m.statistics.closed.values.reduce(0, +) == 0)
    }
}
