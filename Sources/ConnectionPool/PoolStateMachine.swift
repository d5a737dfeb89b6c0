import CoreUtilities

/// The pool's decisions, and nothing else: who gets a connection, who waits, what is discarded,
/// when to dial, when the pool counts as down and when to probe.
///
/// There is no lock, clock, randomness or I/O in here: the driver (`ConnectionPool`) calls it under
/// its lock, passes the time (and random fractions for jitter) in, and performs the returned
/// action (dial, close, wake a waiter) after releasing the lock.
///
/// Dialling is separate from waiting: borrowers never connect themselves. A borrower that finds
/// nothing idle queues and, if the pool may grow, asks for a dial; dials run on their own threads,
/// at most `maxConcurrentDials` at once, and hand the new connection to whoever waits first when it
/// arrives (or park it idle), so a borrower that gives up never wastes a dial.
///
/// Fast failure: a failed dial marks the pool *down*. While down, a borrower that finds no idle
/// connection fails at once (no connect timeout each); one background probe at a time, with capped
/// exponential backoff and jitter, dials until one succeeds. The first successful dial — probe or
/// not — marks the pool up again.
public struct PoolStateMachine<Connection: AnyObject> {
    /// Identifies one borrow attempt while it waits in the queue.
    public struct WaiterID: Hashable, Sendable {
        let value: Int
    }

    /// What a woken waiter receives.
    public enum Handoff {
        /// A connection, ready to use.
        case connection(Connection)
        /// The borrow fails (the pool went down or was shut down while it waited).
        case failure(PoolError)
    }

    /// What a borrower does next.
    public enum BorrowAction {
        /// Use this idle connection, health-checked first when `needsHealthCheck`.
        case use(Connection, needsHealthCheck: Bool)
        /// Wait to be woken (then `collect`), or until the deadline (then `waitTimedOut`); start
        /// `dials` new dials first.
        case wait(WaiterID, dials: Int)
        /// Fail at once.
        case fail(PoolError)
    }

    /// What the driver does after a connection came back.
    public struct ReleaseAction {
        /// Wake this waiter: the connection was handed to it.
        public var wake: WaiterID?
        /// Close this connection, counted under this reason.
        public var close: (Connection, ConnectionCloseReason)?
        /// Start this many dials (a slot was freed and borrowers wait).
        public var dials = 0
    }

    /// What the dialling thread does after a dial ended.
    public struct DialAction {
        /// Waiters to wake (one handed the new connection, or all of them failed).
        public var wake: [WaiterID] = []
        /// Close the new connection (the pool was shut down meanwhile).
        public var close: Connection?
        /// Dial again: borrowers still wait, or idle connections are below `minIdle`.
        public var dialAgain = false
        /// The pool was down and this dial brought it back up; how long it was down.
        public var recoveredAfter: Duration?
        /// The pool was up and this failure took it down.
        public var wentDown = false
    }

    /// What the background maintenance does now.
    public struct MaintenanceAction {
        /// Idle connections to close: past their lifetime, idle too long, or stale.
        public var close: [(Connection, ConnectionCloseReason)] = []
        /// Dials to start: to keep `minIdle`, or one probe while the pool is down.
        public var dials = 0
        /// True when the dial is a probe of a pool that is down.
        public var isProbe = false
        /// Borrows held longer than `leakDetectionThreshold`, each reported once.
        public var leaks: [LeakReport] = []
        /// When maintenance should run next.
        public var nextRun: PoolInstant
    }

    /// What a waiter whose deadline passed does.
    public enum TimeoutAction {
        /// Fail with this error (the waiter has left the queue).
        case fail(PoolError)
        /// A handoff arrived just in time: take it.
        case take(Handoff)
    }

    private struct Member {
        let connection: Connection
        let expiresAt: PoolInstant?
        let generation: Int
    }

    private struct IdleEntry {
        let member: Member
        let returnedAt: PoolInstant
    }

    private struct Lease {
        let member: Member
        let label: String
        let since: PoolInstant
        var leakReported = false
    }

    private struct Waiter {
        let id: WaiterID
        let label: String
    }

    private let configuration: PoolConfiguration
    private var idle: [IdleEntry] = []
    private var leases: [ObjectIdentifier: Lease] = [:]
    private var dialing = 0
    private var waiters: [Waiter] = []
    private var waiterHead = 0
    private var handoffs: [WaiterID: Handoff] = [:]
    private var nextWaiter = 0
    private var generation = 0
    /// Idle connections returned before this instant are health-checked before they are lent:
    /// a sibling came back broken, so they may be dead too.
    private var suspectBefore: PoolInstant?
    private var availability = PoolAvailability.up
    private var failedProbes = 0
    private var nextProbeAt: PoolInstant?
    /// True once `shutDown()` was called: every borrow fails from then on.
    public private(set) var isShutDown = false
    private var counters = PoolStatistics()

    /// A state machine for an empty pool.
    public init(configuration: PoolConfiguration) {
        self.configuration = configuration
        counters.maxConnections = configuration.maxConnections
    }

    /// The gauges and counters now.
    public var statistics: PoolStatistics {
        var stats = counters
        stats.open = open
        stats.idle = idle.count
        stats.inUse = leases.count
        stats.connecting = dialing
        stats.waiting = waiters.count - waiterHead
        stats.availability = availability
        return stats
    }

    /// Up, or down since when and why.
    public var currentAvailability: PoolAvailability { availability }

    private var open: Int { idle.count + leases.count + dialing }
    private var waiting: Int { waiters.count - waiterHead }

    // MARK: Borrowing

    /// A borrower asks for a connection at `now` on behalf of `label` (e.g. the route; named in leak
    /// reports): reuse the most recently returned idle one (LIFO), or queue (FIFO) and dial if the
    /// pool may grow. While the pool is down and nothing is idle, fail at once.
    public mutating func borrow(now: PoolInstant, label: String) -> BorrowAction {
        if isShutDown { return .fail(.shutDown) }
        if waiting == 0, let entry = idle.popLast() {
            let stale = now.duration(since: entry.returnedAt) >= configuration.healthCheckInterval
            let suspect = suspectBefore.map { entry.returnedAt < $0 } ?? false
            leases[ObjectIdentifier(entry.member.connection)] = Lease(member: entry.member, label: label, since: now)
            if !(stale || suspect) { counters.borrows += 1 }
            return .use(entry.member.connection, needsHealthCheck: stale || suspect)
        }
        if case .down(let since, let lastError) = availability {
            counters.fastFailures += 1
            return .fail(.unavailable(downSince: since, lastError: lastError, statistics: statistics))
        }
        let id = WaiterID(value: nextWaiter)
        nextWaiter += 1
        waiters.append(Waiter(id: id, label: label))
        return .wait(id, dials: reserveDials(wanted: waiting - dialing))
    }

    /// A woken waiter takes what was handed to it; nil on a spurious wake-up.
    public mutating func collect(_ waiter: WaiterID) -> Handoff? {
        handoffs.removeValue(forKey: waiter)
    }

    /// A waiter's deadline passed: it leaves the queue and fails, unless a handoff beat it. A dial
    /// started for it goes on and serves the next borrower.
    public mutating func waitTimedOut(_ waiter: WaiterID) -> TimeoutAction {
        if let handoff = handoffs.removeValue(forKey: waiter) { return .take(handoff) }
        if let index = waiters[waiterHead...].firstIndex(where: { $0.id == waiter }) {
            waiters.remove(at: index)
            compactWaiters()
        }
        counters.waitTimeouts += 1
        return .fail(.timeout(waited: configuration.waitTimeout, statistics: statistics))
    }

    // MARK: Dialling

    /// A dial succeeded at `now`: the pool is up; the connection goes to the first waiter or idle.
    /// `jitter` in 0..<1 shortens this connection's lifetime by up to `maxLifetimeJitter`.
    public mutating func dialSucceeded(_ connection: Connection, now: PoolInstant, jitter: Double) -> DialAction {
        dialing -= 1
        counters.connects += 1
        var action = DialAction()
        if case .down(let since, _) = availability {
            action.recoveredAfter = now.duration(since: since)
            counters.recoveries += 1
        }
        availability = .up
        failedProbes = 0
        nextProbeAt = nil
        if isShutDown {
            counters.closed[.shutdown, default: 0] += 1
            action.close = connection
            return action
        }
        let member = Member(connection: connection, expiresAt: expiry(from: now, jitter: jitter), generation: generation)
        if let waiter = popWaiter() {
            leases[ObjectIdentifier(connection)] = Lease(member: member, label: waiter.label, since: now)
            counters.borrows += 1
            handoffs[waiter.id] = .connection(connection)
            action.wake = [waiter.id]
        } else {
            idle.append(IdleEntry(member: member, returnedAt: now))
        }
        action.dialAgain = reserveDials(wanted: min(1, max(waiting - dialing, minIdleDeficit))) == 1
        return action
    }

    /// A dial failed at `now` with `message`: the pool is down (if it was not already), every waiter
    /// fails at once, and the next probe is scheduled after a backoff; `jitter` in 0..<1 spreads it.
    public mutating func dialFailed(message: String, now: PoolInstant, jitter: Double) -> DialAction {
        dialing -= 1
        counters.connectFailures += 1
        counters.lastConnectError = message
        var action = DialAction()
        var downSince = now
        switch availability {
        case .up:
            counters.outages += 1
            action.wentDown = true
        case .down(let since, _):
            downSince = since
        }
        availability = .down(since: downSince, lastError: message)
        failedProbes += 1
        nextProbeAt = now.advanced(by: backoff(afterFailures: failedProbes, jitter: jitter))
        let error =
            isShutDown ? PoolError.shutDown : .unavailable(downSince: downSince, lastError: message, statistics: statistics)
        while let waiter = popWaiter() {
            handoffs[waiter.id] = .failure(error)
            action.wake.append(waiter.id)
        }
        return action
    }

    // MARK: Health checks

    /// A connection lent with `needsHealthCheck` passed its check: the borrow is complete.
    public mutating func healthCheckPassed() {
        counters.borrows += 1
    }

    /// A lent connection failed its health check at `now`: it is to be closed, and the idle ones
    /// returned before it are suspect too. The borrower borrows again.
    public mutating func healthCheckFailed(_ connection: Connection, now: PoolInstant) {
        leases[ObjectIdentifier(connection)] = nil
        suspectBefore = now
        counters.healthCheckFailures += 1
        counters.closed[.healthCheckFailed, default: 0] += 1
    }

    // MARK: Returning

    /// A borrower returns `connection` at `now`. A reusable one goes to the first waiter or back on
    /// the idle stack. It is closed instead when not reusable (counted under `closeReason`; a broken
    /// one makes its idle siblings suspect), past its lifetime, or stale after `invalidateAll`.
    public mutating func release(
        _ connection: Connection, reusable: Bool, now: PoolInstant, closeReason: ConnectionCloseReason = .broken
    ) -> ReleaseAction {
        guard let lease = leases.removeValue(forKey: ObjectIdentifier(connection)) else {
            preconditionFailure("released a connection that is not lent out")
        }
        let reason: ConnectionCloseReason?
        if isShutDown {
            reason = reusable ? .shutdown : closeReason
        } else if !reusable {
            reason = closeReason
            if closeReason == .broken { suspectBefore = now }
        } else if lease.member.generation != generation {
            reason = .invalidated
        } else if let expiresAt = lease.member.expiresAt, now >= expiresAt {
            reason = .expired
        } else {
            reason = nil
        }
        var action = ReleaseAction()
        if let reason {
            counters.closed[reason, default: 0] += 1
            action.close = (connection, reason)
            if !isShutDown, case .up = availability { action.dials = reserveDials(wanted: waiting - dialing) }
            return action
        }
        if let waiter = popWaiter() {
            leases[ObjectIdentifier(connection)] = Lease(member: lease.member, label: waiter.label, since: now)
            counters.borrows += 1
            handoffs[waiter.id] = .connection(connection)
            action.wake = waiter.id
        } else {
            idle.append(IdleEntry(member: lease.member, returnedAt: now))
        }
        return action
    }

    // MARK: Maintenance

    /// The background maintenance at `now`: closes idle connections past their lifetime or idle
    /// longer than `idleTimeout` (beyond `minIdle`), reports borrows held too long, dials to keep
    /// `minIdle` while up, or starts the single probe once its backoff passed while down.
    public mutating func maintain(now: PoolInstant) -> MaintenanceAction {
        var action = MaintenanceAction(nextRun: now.advanced(by: configuration.maintenanceInterval))
        if isShutDown { return action }
        // Idle is a stack: the oldest returns are at the bottom.
        var kept: [IdleEntry] = []
        kept.reserveCapacity(idle.count)
        var surplus = idle.count - configuration.minIdle
        for entry in idle {
            if let expiresAt = entry.member.expiresAt, now >= expiresAt {
                action.close.append((entry.member.connection, .expired))
                surplus -= 1
            } else if surplus > 0, let timeout = configuration.idleTimeout, now.duration(since: entry.returnedAt) >= timeout {
                action.close.append((entry.member.connection, .idleTimeout))
                surplus -= 1
            } else {
                kept.append(entry)
            }
        }
        idle = kept
        for (_, reason) in action.close { counters.closed[reason, default: 0] += 1 }
        if let threshold = configuration.leakDetectionThreshold {
            for (key, lease) in leases where !lease.leakReported && now.duration(since: lease.since) >= threshold {
                leases[key]?.leakReported = true
                counters.leaksDetected += 1
                action.leaks.append(LeakReport(label: lease.label, heldFor: now.duration(since: lease.since)))
            }
        }
        switch availability {
        case .up:
            action.dials = reserveDials(wanted: minIdleDeficit)
        case .down:
            if dialing == 0, let due = nextProbeAt {
                if now >= due {
                    action.dials = reserveDials(wanted: 1)
                    action.isProbe = action.dials == 1
                    counters.probes += action.dials
                } else {
                    action.nextRun = min(action.nextRun, due)
                }
            }
        }
        return action
    }

    /// Marks every connection open now as stale (e.g. the Redis master moved): the idle ones are
    /// returned to be closed, the lent ones are closed when they come back. A pool that is down
    /// probes at once: the server it could not reach may just have been replaced.
    public mutating func invalidateAll(now: PoolInstant) -> [Connection] {
        generation += 1
        if case .down = availability, let due = nextProbeAt { nextProbeAt = min(due, now) }
        let closing = idle.map(\.member.connection)
        counters.closed[.invalidated, default: 0] += closing.count
        idle.removeAll()
        return closing
    }

    // MARK: Shutting down

    /// Shuts the pool: returns the idle connections to close and the waiters to wake (they fail).
    public mutating func shutDown() -> (close: [Connection], wake: [WaiterID]) {
        isShutDown = true
        let closing = idle.map(\.member.connection)
        counters.closed[.shutdown, default: 0] += closing.count
        idle.removeAll()
        var woken: [WaiterID] = []
        while let waiter = popWaiter() {
            handoffs[waiter.id] = .failure(.shutDown)
            woken.append(waiter.id)
        }
        return (closing, woken)
    }

    // MARK: Private

    private var minIdleDeficit: Int {
        configuration.minIdle - idle.count - dialing
    }

    /// Reserves up to `wanted` dials within the connection maximum and the dial concurrency limit.
    private mutating func reserveDials(wanted: Int) -> Int {
        let allowed = min(wanted, configuration.maxConnections - open, configuration.maxConcurrentDials - dialing)
        guard allowed > 0 else { return 0 }
        dialing += allowed
        return allowed
    }

    private func expiry(from now: PoolInstant, jitter: Double) -> PoolInstant? {
        guard let lifetime = configuration.maxLifetime else { return nil }
        let shortened = lifetime.secondsDouble * (1 - configuration.maxLifetimeJitter * min(max(jitter, 0), 1))
        return now.advanced(by: .nanoseconds(Int64(shortened * 1e9)))
    }

    /// Capped exponential backoff with "equal jitter": half the step is fixed, half random.
    private func backoff(afterFailures failures: Int, jitter: Double) -> Duration {
        let base = configuration.reconnectBackoff.secondsDouble
        let cap = configuration.reconnectBackoffCap.secondsDouble
        let step = min(cap, base * Double(1 << min(failures - 1, 30)))
        return .nanoseconds(Int64((step / 2 + step / 2 * min(max(jitter, 0), 1)) * 1e9))
    }

    private mutating func popWaiter() -> Waiter? {
        guard waiterHead < waiters.count else { return nil }
        let waiter = waiters[waiterHead]
        waiterHead += 1
        compactWaiters()
        return waiter
    }

    private mutating func compactWaiters() {
        if waiterHead == waiters.count {
            waiters.removeAll(keepingCapacity: true)
            waiterHead = 0
        } else if waiterHead > 64, waiterHead * 2 > waiters.count {
            waiters.removeFirst(waiterHead)
            waiterHead = 0
        }
    }
}
