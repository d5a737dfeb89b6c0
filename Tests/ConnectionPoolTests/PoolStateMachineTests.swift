import ConnectionPool
import Testing

/// The pool's decisions, driven by hand with explicit instants (the mock clock) and explicit jitter.
@Suite struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<MockConnection>

    static func configuration(max: Int = 2, dials: Int = 2, minIdle: Int = 0) -> PoolConfiguration {
        var configuration = PoolConfiguration()
        configuration.maxConnections = max
        configuration.maxConcurrentDials = dials
        configuration.minIdle = minIdle
        configuration.waitTimeout = .seconds(1)
        configuration.healthCheckInterval = .seconds(30)
        configuration.maxLifetime = .seconds(100)
        configuration.maxLifetimeJitter = 0.2
        configuration.idleTimeout = .seconds(60)
        configuration.reconnectBackoff = .milliseconds(100)
        configuration.reconnectBackoffCap = .milliseconds(800)
        configuration.leakDetectionThreshold = .seconds(5)
        configuration.maintenanceInterval = .seconds(1)
        return configuration
    }

    func machine(max: Int = 2, dials: Int = 2, minIdle: Int = 0) -> Machine {
        Machine(configuration: Self.configuration(max: max, dials: dials, minIdle: minIdle))
    }

    let t0 = PoolInstant(nanoseconds: 1_000_000_000)

    func at(_ seconds: Double) -> PoolInstant { t0.advanced(by: .nanoseconds(Int64(seconds * 1e9))) }

    /// Borrows with nothing idle, lets the requested dial succeed, and collects the connection.
    func lease(_ m: inout Machine, _ connection: MockConnection, label: String = "test", now: PoolInstant? = nil) {
        let now = now ?? t0
        guard case (.wait(let waiter), _) = m.borrow(now: now, label: label).stepAndDials else { Issue.record("expected wait"); return }
        let action = m.dialSucceeded(connection, now: now, jitter: 0)
        #expect(action.wake == [waiter])
        guard case .connection(let handed)? = m.collect(waiter) else { Issue.record("expected a handoff"); return }
        #expect(handed === connection)
    }

    // MARK: Dialling and waiting

    @Test func aBorrowerWithNothingIdleQueuesAndOneDialIsStartedForIt() {
        var m = machine(max: 2)
        guard case (.wait(let w1), let dials) = m.borrow(now: t0, label: "a").stepAndDials else { Issue.record("expected wait"); return }
        #expect(dials == 1)
        #expect(m.statistics.connecting == 1 && m.statistics.waiting == 1 && m.statistics.open == 1)
        let a = MockConnection(id: 1)
        let action = m.dialSucceeded(a, now: t0, jitter: 0)
        #expect(action.wake == [w1] && action.dials == 0 && action.recoveredAfter == nil)
        #expect(m.statistics.inUse == 1 && m.statistics.connecting == 0 && m.statistics.connects == 1 && m.statistics.borrows == 1)
    }

    @Test func neverMoreDialsThanTheConcurrencyLimitNorConnectionsThanTheMaximum() {
        var m = machine(max: 3, dials: 2)
        var started = 0
        for _ in 0..<10 {
            guard case (.wait(_), let dials) = m.borrow(now: t0, label: "x").stepAndDials else { Issue.record("expected wait"); return }
            started += dials
        }
        #expect(started == 2, "two dials in flight at most")
        let first = m.dialSucceeded(MockConnection(id: 1), now: t0, jitter: 0)
        #expect(first.dials == 1, "eight borrowers still wait and the pool may grow to 3")
        let second = m.dialSucceeded(MockConnection(id: 2), now: t0, jitter: 0)
        #expect(second.dials == 0, "one dial is still in flight and it fills the maximum")
        _ = m.dialSucceeded(MockConnection(id: 3), now: t0, jitter: 0)
        #expect(m.statistics.open == 3 && m.statistics.inUse == 3 && m.statistics.waiting == 7)
    }

    @Test func aDialWhoseBorrowerGaveUpServesTheNextBorrower() {
        var m = machine(max: 1)
        guard case (.wait(let w1), 1) = m.borrow(now: t0, label: "gave-up").stepAndDials else { Issue.record("expected wait"); return }
        guard case .fail(.timeout)? = m.waitTimedOut(w1).borrower else { Issue.record("expected timeout"); return }
        #expect(m.statistics.connecting == 1, "the dial goes on")
        let a = MockConnection(id: 1)
        let action = m.dialSucceeded(a, now: t0, jitter: 0)
        #expect(action.wake.isEmpty)
        #expect(m.statistics.idle == 1)
        guard case .use(let reused, false)? = m.borrow(now: at(0.1), label: "next").borrower else { Issue.record("expected use"); return }
        #expect(reused === a)
        #expect(m.statistics.connects == 1)
    }

    @Test func reusesIdleConnectionsLastInFirstOut() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1), b = MockConnection(id: 2)
        lease(&m, a)
        lease(&m, b)
        _ = m.release(a, reusable: true, now: t0)
        _ = m.release(b, reusable: true, now: t0)
        guard case .use(let first, let check)? = m.borrow(now: t0, label: "x").borrower else { Issue.record("expected use"); return }
        #expect(first === b && check == false)
        #expect(m.statistics.idle == 1)
    }

    @Test func waitersAreServedFirstComeFirstServed() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        lease(&m, a)
        guard case (.wait(let w1), 0) = m.borrow(now: t0, label: "1").stepAndDials,
            case (.wait(let w2), 0) = m.borrow(now: t0, label: "2").stepAndDials
        else {
            Issue.record("expected two waiters without dials (the pool is full)"); return
        }
        #expect(m.release(a, reusable: true, now: t0).wake == [w1])
        guard case .connection(let handed)? = m.collect(w1) else { Issue.record("expected handoff"); return }
        #expect(handed === a)
        #expect(m.collect(w2) == nil)
        #expect(m.release(a, reusable: true, now: t0).wake == [w2])
        #expect(m.statistics.waiting == 0 && m.statistics.inUse == 1)
    }

    @Test func aHandoffThatBeatTheTimeoutIsTaken() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        lease(&m, a)
        guard case (.wait(let w1), _) = m.borrow(now: t0, label: "x").stepAndDials else { Issue.record("expected wait"); return }
        _ = m.release(a, reusable: true, now: t0)
        guard case .take(let handed)? = m.waitTimedOut(w1).borrower else { Issue.record("expected take"); return }
        #expect(handed === a)
        #expect(m.statistics.waitTimeouts == 0)
    }

    // MARK: Broken connections and health checks

    @Test func aBrokenConnectionIsClosedADialReplacesItForWaitersAndItsIdleSiblingsBecomeSuspect() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1), b = MockConnection(id: 2)
        lease(&m, a)
        lease(&m, b)
        _ = m.release(b, reusable: true, now: t0)
        _ = m.borrow(now: t0, label: "b")  // b again
        guard case (.wait(_), 0) = m.borrow(now: t0, label: "w").stepAndDials else { Issue.record("expected wait"); return }
        let action = m.release(a, reusable: false, now: at(1))
        #expect(action.close.first?.0 === a && action.close.first?.1 == .broken && action.dials == 1)
        #expect(m.statistics.discarded == 1)
        _ = m.release(b, reusable: true, now: at(0.5))  // to the waiter
        _ = m.release(b, reusable: true, now: at(0.5))  // idle, returned before the breakage
        guard case .use(_, true)? = m.borrow(now: at(2), label: "x").borrower else { Issue.record("a suspect must be checked"); return }
    }

    @Test func anIdleConnectionPastTheIntervalIsHealthCheckedAndAFailureIsCounted() {
        var m = machine(max: 1)
        let a = MockConnection(id: 1)
        lease(&m, a)
        _ = m.release(a, reusable: true, now: t0)
        guard case .use(_, false)? = m.borrow(now: at(29), label: "x").borrower else { Issue.record("fresh"); return }
        _ = m.release(a, reusable: true, now: t0)
        guard case .use(_, true)? = m.borrow(now: at(30), label: "x").borrower else { Issue.record("due"); return }
        _ = m.healthCheckFailed(a, timedOut: false, now: at(30))
        let stats = m.statistics
        #expect(stats.healthCheckFailures == 1 && stats.closed[.healthCheckFailed] == 1 && stats.open == 0)
        guard case (.wait(_), 1) = m.borrow(now: at(30), label: "x").stepAndDials else { Issue.record("borrows again with a dial"); return }
    }

    // MARK: Down, fast failure, probes

    @Test func aFailedDialMarksThePoolDownFailsEveryWaiterAndLaterBorrowsFailAtOnce() {
        var m = machine(max: 2, dials: 1)
        guard case (.wait(let w1), 1) = m.borrow(now: t0, label: "1").stepAndDials,
            case (.wait(let w2), 0) = m.borrow(now: t0, label: "2").stepAndDials
        else {
            Issue.record("expected two waiters, one dial"); return
        }
        let action = m.dialFailed(message: "refused", now: t0, jitter: 0)
        #expect(action.wentDown != nil && Set(action.wake) == [w1, w2])
        for waiter in [w1, w2] {
            guard case .failure(.unavailable(let since, let error, _))? = m.collect(waiter) else {
                Issue.record("expected unavailable"); return
            }
            #expect(since == t0 && error == "refused")
        }
        guard case .fail(.unavailable)? = m.borrow(now: at(0.01), label: "3").borrower else {
            Issue.record("expected a fast failure"); return
        }
        let stats = m.statistics
        #expect(stats.availability == .down(since: t0, lastError: "refused"))
        #expect(stats.fastFailures == 1 && stats.outages == 1 && stats.connecting == 0 && stats.open == 0)
    }

    @Test func idleConnectionsAreStillLentWhileThePoolIsDown() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1)
        lease(&m, a)
        guard case .wait? = m.borrow(now: t0, label: "x").borrower else { Issue.record("expected wait"); return }
        _ = m.dialFailed(message: "max number of clients reached", now: t0, jitter: 0)
        _ = m.release(a, reusable: true, now: t0)
        guard case .use(let reused, _)? = m.borrow(now: at(0.1), label: "y").borrower else { Issue.record("expected use"); return }
        #expect(reused === a)
    }

    @Test func oneProbeAtATimeAfterACappedJitteredExponentialBackoff() {
        var m = machine(max: 2)
        _ = m.borrow(now: t0, label: "x")
        _ = m.dialFailed(message: "refused", now: t0, jitter: 0)
        // First backoff: 100 ms step, equal jitter 0 → 50 ms.
        var maintenance = m.maintain(now: at(0.01))
        #expect(maintenance.dials == 0 && maintenance.nextMaintenance == at(0.05))
        maintenance = m.maintain(now: at(0.05))
        #expect(maintenance.dials == 1 && maintenance.isProbe)
        #expect(m.maintain(now: at(0.06)).dials == 0, "a probe is in flight")
        #expect(m.borrow(now: at(0.06), label: "x").isFailure, "still failing fast while probing")
        // Failed probes double the step up to the 800 ms cap; jitter 1 takes the whole step.
        var now = t0.advanced(by: .milliseconds(50))
        for expected in [200, 400, 800, 800, 800] {
            _ = m.dialFailed(message: "refused", now: now, jitter: 1)
            #expect(m.maintain(now: now).nextMaintenance == now.advanced(by: .milliseconds(expected)))
            now = now.advanced(by: .milliseconds(expected))
            #expect(m.maintain(now: now).dials == 1)
        }
        #expect(m.statistics.probes == 6 && m.statistics.outages == 1)
    }

    @Test func theFirstSuccessfulDialBringsThePoolUpAndRefillsMinIdle() {
        var m = machine(max: 4, dials: 2, minIdle: 2)
        #expect(m.maintain(now: t0).dials == 2, "warmed at start")
        _ = m.dialFailed(message: "refused", now: t0, jitter: 0)
        _ = m.dialFailed(message: "refused again", now: t0, jitter: 0)
        #expect(m.statistics.availability == .down(since: t0, lastError: "refused again"))
        #expect(m.maintain(now: at(1)).dials == 1)
        let action = m.dialSucceeded(MockConnection(id: 1), now: at(1.5), jitter: 0)
        #expect(action.recoveredAfter == .milliseconds(1500) && action.dials == 1, "one more to reach minIdle")
        #expect(m.statistics.availability == .up && m.statistics.recoveries == 1)
        guard case .use? = m.borrow(now: at(1.5), label: "x").borrower else { Issue.record("expected use"); return }
        guard case (.wait(_), 0) = m.borrow(now: at(1.5), label: "y").stepAndDials else {
            Issue.record("queues behind the refill dial"); return
        }
    }

    // MARK: Stalls

    @Test func aStalledDialKeepsThePoolUpKeepsTheWaiterAndDialsAgain() {
        var m = machine(max: 2, dials: 1)
        guard case (.wait(let w1), 1) = m.borrow(now: t0, label: "1").stepAndDials else { Issue.record("expected wait"); return }
        let failed = m.dialFailed(message: "Redis did not answer within 300 ms", failure: .stalled, now: at(0.3), jitter: 0)
        #expect(failed.wentDown == nil && failed.wake.isEmpty && failed.stallBegan && failed.dials == 1)
        #expect(m.statistics.availability == .up && m.statistics.stalls == 1 && m.statistics.stalledSince == at(0.3))
        #expect(m.collect(w1) == nil, "the waiter keeps waiting within its own deadline")
        guard case (.wait, 0) = m.borrow(now: at(0.4), label: "2").stepAndDials else { Issue.record("no fast failure in a stall"); return }
        let a = MockConnection(id: 1)
        let succeeded = m.dialSucceeded(a, now: at(0.5), jitter: 0)
        #expect(succeeded.wake == [w1] && succeeded.stallEndedAfter == .milliseconds(200))
        #expect(m.statistics.stalledSince == nil && m.statistics.stallSeconds > 0.19 && m.statistics.outages == 0)
    }

    @Test func aTimedOutCommandBeginsAStallAndMakesIdleSiblingsCheckedUntilOnePasses() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1), b = MockConnection(id: 2)
        lease(&m, a)
        lease(&m, b)
        _ = m.release(b, reusable: true, now: t0)
        let released = m.release(a, reusable: false, now: at(0.3), closeReason: .timedOut)
        #expect(released.stallBegan && released.close.first?.1 == .timedOut)
        #expect(m.statistics.discarded == 1 && m.statistics.stalls == 1)
        guard case .use(let checked, true)? = m.borrow(now: at(0.4), label: "x").borrower else {
            Issue.record("an idle sibling is health-checked during a stall"); return
        }
        #expect(checked === b)
        let passed = m.healthCheckPassed(now: at(0.8))
        #expect(passed.stallEndedAfter == .milliseconds(500) && m.statistics.stalledSince == nil)
    }

    @Test func aHealthCheckThatTimesOutIsAStallAndOneThatFailsOtherwiseIsNot() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1), b = MockConnection(id: 2)
        lease(&m, a)
        lease(&m, b)
        _ = m.release(a, reusable: true, now: t0)
        _ = m.release(b, reusable: true, now: t0)
        guard case .use(let first, _)? = m.borrow(now: at(31), label: "x").borrower else { Issue.record("expected use"); return }
        #expect(!m.healthCheckFailed(first, timedOut: false, now: at(31)).stallBegan, "a reset is no stall")
        guard case .use(let second, _)? = m.borrow(now: at(31), label: "x").borrower else { Issue.record("expected use"); return }
        let action = m.healthCheckFailed(second, timedOut: true, now: at(32))
        #expect(action.stallBegan && action.close.first?.1 == .healthCheckFailed && m.statistics.availability == .up)
    }

    @Test func aStalledProbeOfADownPoolIsAFailedProbe() {
        var m = machine(max: 2)
        _ = m.borrow(now: t0, label: "x")
        _ = m.dialFailed(message: "refused", now: t0, jitter: 0)
        #expect(m.maintain(now: at(1)).isProbe)
        let probe = m.dialFailed(message: "Redis did not answer", failure: .stalled, now: at(1.3), jitter: 0)
        #expect(!probe.stallBegan && m.statistics.stalls == 0 && m.statistics.probes == 1)
        guard case .fail(.unavailable)? = m.borrow(now: at(1.3), label: "y").borrower else { Issue.record("still down"); return }
    }

    @Test func anOutageEndsWithItsDurationCounted() {
        var m = machine(max: 2)
        _ = m.borrow(now: t0, label: "x")
        _ = m.dialFailed(message: "refused", now: t0, jitter: 0)
        _ = m.maintain(now: at(1))
        let recovered = m.dialSucceeded(MockConnection(id: 1), now: at(2), jitter: 0)
        #expect(recovered.recoveredAfter == .seconds(2) && m.statistics.outageSeconds == 2)
    }

    // MARK: Lifecycle

    @Test func connectionsExpireAfterAJitteredLifetimeWhetherLentOrIdle() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1), b = MockConnection(id: 2)
        guard case .wait? = m.borrow(now: t0, label: "a").borrower else { Issue.record("expected wait"); return }
        _ = m.dialSucceeded(a, now: t0, jitter: 1)  // lifetime 100 s × (1 − 0.2) = 80 s
        guard case .wait? = m.borrow(now: t0, label: "b").borrower else { Issue.record("expected wait"); return }
        _ = m.dialSucceeded(b, now: t0, jitter: 0)  // 100 s
        #expect(m.release(a, reusable: true, now: at(79.9)).close.isEmpty)
        _ = m.borrow(now: at(79.9), label: "a")
        #expect(m.release(a, reusable: true, now: at(80)).close.first?.1 == .expired)
        _ = m.release(b, reusable: true, now: at(90))
        #expect(m.maintain(now: at(99)).close.isEmpty)
        let closing = m.maintain(now: at(100)).close
        #expect(closing.count == 1 && closing[0].0 === b && closing[0].1 == .expired)
        #expect(m.statistics.closed[.expired] == 2 && m.statistics.open == 0)
    }

    @Test func idleConnectionsBeyondMinIdleAreClosedAfterTheIdleTimeoutOldestFirst() {
        var m = machine(max: 3, minIdle: 1)
        let connections = (1...3).map { MockConnection(id: $0) }
        for _ in connections { _ = m.borrow(now: t0, label: "x") }
        for connection in connections { _ = m.dialSucceeded(connection, now: t0, jitter: 0) }
        #expect(m.statistics.inUse == 3 && m.statistics.connecting == 0)
        for (index, connection) in connections.enumerated() {
            _ = m.release(connection, reusable: true, now: at(Double(index)))
        }
        #expect(m.maintain(now: at(59.9)).close.isEmpty)
        let closing = m.maintain(now: at(61.5)).close
        #expect(closing.map(\.0.id) == [1, 2], "idle 61.5 s and 60.5 s; the newest stays as minIdle")
        #expect(closing.allSatisfy { $0.1 == .idleTimeout })
        #expect(m.maintain(now: at(99)).close.isEmpty, "minIdle is kept however long it idles (within its lifetime)")
    }

    @Test func aBorrowHeldPastTheThresholdIsReportedOnceWithItsLabel() {
        var m = machine(max: 2)
        lease(&m, MockConnection(id: 1), label: "GET /cache/{key}")
        #expect(m.maintain(now: at(4.9)).leaks.isEmpty)
        let leaks = m.maintain(now: at(5)).leaks
        #expect(leaks == [LeakReport(label: "GET /cache/{key}", heldFor: .seconds(5))])
        #expect(m.maintain(now: at(10)).leaks.isEmpty, "reported once")
        #expect(m.statistics.leaksDetected == 1)
    }

    @Test func invalidateAllClosesIdleConnectionsNowAndLentOnesWhenTheyComeBack() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1), b = MockConnection(id: 2)
        lease(&m, a)
        lease(&m, b)
        _ = m.release(a, reusable: true, now: t0)
        let closing = m.invalidateAll(now: t0).close
        #expect(closing.count == 1 && closing[0].0 === a && closing[0].1 == .invalidated)
        #expect(m.release(b, reusable: true, now: t0).close.first?.1 == .invalidated)
        #expect(m.statistics.closed[.invalidated] == 2 && m.statistics.open == 0)
        guard case (.wait(_), 1) = m.borrow(now: t0, label: "x").stepAndDials else { Issue.record("a fresh dial"); return }
    }

    @Test func invalidatingADownPoolProbesAtOnce() {
        var m = machine(max: 2)
        _ = m.borrow(now: t0, label: "x")
        _ = m.dialFailed(message: "refused", now: t0, jitter: 1)  // next probe in 100 ms
        #expect(m.maintain(now: at(0.01)).dials == 0)
        _ = m.invalidateAll(now: at(0.01))
        let maintenance = m.maintain(now: at(0.01))
        #expect(maintenance.dials == 1 && maintenance.isProbe, "the master moved: probe now, not after the backoff")
    }

    @Test func shutDownClosesIdleFailsWaitersAndRefusesBorrows() {
        var m = machine(max: 2)
        let a = MockConnection(id: 1), b = MockConnection(id: 2)
        lease(&m, a)
        lease(&m, b)
        _ = m.release(a, reusable: true, now: t0)
        _ = m.borrow(now: t0, label: "x")  // takes a again
        guard case (.wait(let w1), _) = m.borrow(now: t0, label: "y").stepAndDials else { Issue.record("expected wait"); return }
        let action = m.shutDown()
        #expect(action.close.isEmpty && action.wake == [w1])
        guard case .failure(.shutDown)? = m.collect(w1) else { Issue.record("expected shutDown handoff"); return }
        guard case .fail(.shutDown)? = m.borrow(now: t0, label: "z").borrower else { Issue.record("expected shutDown"); return }
        #expect(m.release(b, reusable: true, now: t0).close.first?.0 === b)
        #expect(m.statistics.closed[.shutdown] == 1)
    }
}

extension PoolAction {
    /// The borrower's step with the dials started for it, for matching both at once.
    var stepAndDials: (BorrowerStep<Connection>?, Int) { (borrower, dials) }

    var isFailure: Bool {
        if case .fail? = borrower { return true }
        return false
    }
}
