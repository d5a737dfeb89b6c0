import ConnectionPool
import Testing

/// The pool's decisions, driven by hand with explicit instants (the mock clock).
@Suite struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<MockConnection>

    func machine(max: Int = 2, healthCheck: Duration = .seconds(30)) -> Machine {
        var configuration = PoolConfiguration()
        configuration.maxConnections = max
        configuration.waitTimeout = .seconds(1)
        configuration.healthCheckInterval = healthCheck
        return Machine(configuration: configuration)
    }

    let t0 = PoolInstant(nanoseconds: 1_000_000_000)

    @Test func connectsLazilyUpToTheMaximumThenQueues() {
        var m = machine(max: 2)
        #expect(m.statistics.open == 0)
        guard case .connect = m.borrow(now: t0) else { Issue.record("expected connect"); return }
        m.connectSucceeded()
        guard case .connect = m.borrow(now: t0) else { Issue.record("expected connect"); return }
        m.connectSucceeded()
        guard case .wait = m.borrow(now: t0) else { Issue.record("expected wait"); return }
        let stats = m.statistics
        #expect(stats.open == 2 && stats.inUse == 2 && stats.waiting == 1 && stats.connects == 2)
    }

    @Test func reusesIdleConnectionsLastInFirstOut() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1), b = MockConnection(id: 2)
        _ = m.borrow(now: t0); m.connectSucceeded()
        _ = m.borrow(now: t0); m.connectSucceeded()
        _ = m.release(a, reusable: true, now: t0)
        _ = m.release(b, reusable: true, now: t0)
        guard case .use(let first, let check) = m.borrow(now: t0) else { Issue.record("expected use"); return }
        #expect(first === b)
        #expect(check == false)
        #expect(m.statistics.idle == 1)
    }

    @Test func waitersAreServedFirstComeFirstServed() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        _ = m.borrow(now: t0); m.connectSucceeded()
        guard case .wait(let w1) = m.borrow(now: t0), case .wait(let w2) = m.borrow(now: t0) else {
            Issue.record("expected two waiters"); return
        }
        guard case .wake(let woken) = m.release(a, reusable: true, now: t0) else { Issue.record("expected wake"); return }
        #expect(woken == w1)
        guard case .connection(let handed, false)? = m.collect(w1) else { Issue.record("expected handoff"); return }
        #expect(handed === a)
        #expect(m.collect(w2) == nil)
        guard case .wake(let next) = m.release(a, reusable: true, now: t0) else { Issue.record("expected wake"); return }
        #expect(next == w2)
        #expect(m.statistics.waiting == 0 && m.statistics.inUse == 1)
    }

    @Test func aBrokenConnectionIsClosedAndItsSlotPassesToTheFirstWaiter() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        _ = m.borrow(now: t0); m.connectSucceeded()
        guard case .wait(let w1) = m.borrow(now: t0) else { Issue.record("expected wait"); return }
        guard case .closeAndWake(let closed, let woken) = m.release(a, reusable: false, now: t0) else {
            Issue.record("expected closeAndWake"); return
        }
        #expect(closed === a && woken == w1)
        guard case .permitToConnect? = m.collect(w1) else { Issue.record("expected permit"); return }
        #expect(m.statistics.open == 1)
        #expect(m.statistics.discarded == 1)
    }

    @Test func aBrokenConnectionWithNoWaiterFreesItsSlot() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        _ = m.borrow(now: t0); m.connectSucceeded()
        guard case .close(let closed) = m.release(a, reusable: false, now: t0) else { Issue.record("expected close"); return }
        #expect(closed === a)
        #expect(m.statistics.open == 0 && m.statistics.idle == 0)
        guard case .connect = m.borrow(now: t0) else { Issue.record("expected connect"); return }
    }

    @Test func anIdleConnectionPastTheIntervalIsHealthCheckedFirst() {
        var m = machine(max: 1, healthCheck: .seconds(30))
        let a = MockConnection(id: 1)
        _ = m.borrow(now: t0); m.connectSucceeded()
        _ = m.release(a, reusable: true, now: t0)
        guard case .use(_, false) = m.borrow(now: t0.advanced(by: .seconds(29))) else { Issue.record("fresh"); return }
        _ = m.release(a, reusable: true, now: t0)
        guard case .use(_, true) = m.borrow(now: t0.advanced(by: .seconds(30))) else { Issue.record("due"); return }
        m.healthCheckFailed()
        let stats = m.statistics
        #expect(stats.healthCheckFailures == 1)
        #expect(stats.open == 1, "the borrower keeps the slot to open a replacement")
        #expect(stats.closed[.healthCheckFailed] == 1)
        m.connectSucceeded()
        #expect(m.statistics.borrows == 3)
    }

    @Test func aFailedConnectRecordsTheErrorAndPassesTheSlotOn() {
        var m = machine(max: 1)
        _ = m.borrow(now: t0)
        guard case .wait(let w1) = m.borrow(now: t0) else { Issue.record("expected wait"); return }
        guard case .wake(let woken) = m.connectFailed(message: "refused") else { Issue.record("expected wake"); return }
        #expect(woken == w1)
        let stats = m.statistics
        #expect(stats.connectFailures == 1 && stats.lastConnectError == "refused" && stats.open == 1)
    }

    @Test func aTimedOutWaiterLeavesTheQueue() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        _ = m.borrow(now: t0); m.connectSucceeded()
        guard case .wait(let w1) = m.borrow(now: t0) else { Issue.record("expected wait"); return }
        guard case .fail(.timeout(_, let stats)) = m.waitTimedOut(w1) else { Issue.record("expected timeout"); return }
        #expect(stats.waitTimeouts == 1 && stats.waiting == 0)
        guard case .none = m.release(a, reusable: true, now: t0) else { Issue.record("nobody to wake"); return }
        #expect(m.statistics.idle == 1)
    }

    @Test func aHandoffThatBeatTheTimeoutIsTaken() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        _ = m.borrow(now: t0); m.connectSucceeded()
        guard case .wait(let w1) = m.borrow(now: t0) else { Issue.record("expected wait"); return }
        _ = m.release(a, reusable: true, now: t0)
        guard case .take(.connection(let handed, _)) = m.waitTimedOut(w1) else { Issue.record("expected take"); return }
        #expect(handed === a)
        #expect(m.statistics.waitTimeouts == 0)
    }

    @Test func anAbandonedConnectCountsATimeoutAndFreesTheSlot() {
        var m = machine(max: 1)
        _ = m.borrow(now: t0)
        let (action, error) = m.connectAbandoned()
        guard case .none = action, case .timeout = error else { Issue.record("expected none + timeout"); return }
        #expect(m.statistics.open == 0 && m.statistics.waitTimeouts == 1)
    }

    @Test func shutDownClosesIdleWakesWaitersAndRefusesBorrows() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1), b = MockConnection(id: 2)
        _ = m.borrow(now: t0); m.connectSucceeded()
        _ = m.borrow(now: t0); m.connectSucceeded()
        _ = m.release(a, reusable: true, now: t0)
        _ = m.borrow(now: t0)  // takes a again
        guard case .wait(let w1) = m.borrow(now: t0) else { Issue.record("expected wait"); return }
        let (closing, woken) = m.shutDown()
        #expect(closing.isEmpty && woken == [w1])
        guard case .fail(.shutDown) = m.borrow(now: t0) else { Issue.record("expected shutDown"); return }
        guard case .close(let closed) = m.release(b, reusable: true, now: t0) else { Issue.record("expected close"); return }
        #expect(closed === b)
        #expect(m.statistics.closed[.shutdown] == 1)
    }
}
