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
///
/// A stall is not an outage: a dial that connected but got no answer in time, or a command or health
/// check that timed out on an open connection, leaves the pool up. Borrowers keep waiting within
/// their own deadline, idle connections are health-checked (the check waits as long as the borrower
/// may), and the pool dials again for waiters, so the first answer after the stall serves them.
///
/// Two kinds of lease (`LeaseKind`) share the one bound, the one queue and the one deadline per
/// borrow:
/// - *exclusive*: the connection is the borrower's alone until it comes back;
/// - *shared*: the connection carries other shared leases of the same group at the same time, up
///   to `maxStreamsPerConnection` streams, on at most `maxSharedConnectionsPerGroup` connections per
///   group. A shared connection returns to idle (or to the next waiter) when its last lease comes
///   back; one that came back broken takes no new lease and is closed after its last one, so each
///   of its leases fails once, on its own. A shared connection past its lifetime or from before
///   `invalidateAll` takes no new lease either, and is replaced once it drains.
///
/// Every transition returns one `PoolAction` for the driver to carry out.
public struct PoolStateMachine<Connection: AnyObject> {
    /// The driver's to-do list after a transition.
    public typealias Action = PoolAction<Connection>
    /// Identifies one borrow attempt while it waits in the queue.
    public typealias WaiterID = PoolWaiterID
    /// What a woken waiter receives.
    public typealias Handoff = PoolHandoff<Connection>

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

    /// A connection carrying shared leases.
    private struct SharedUse {
        let member: Member
        let group: Int
        /// Streams in flight (the sum of its leases' streams).
        var streams: Int
        var leases: Int
        /// Why the connection will be closed after its last lease: a lease came back broken.
        var broken: ConnectionCloseReason?
        /// True while the connection is health-checked before its first lease uses it: no other
        /// lease joins it until it passed.
        var checking: Bool
        /// When a lease last came back (or the sharing began): a shared connection on which no lease
        /// finished for `leakDetectionThreshold` is reported.
        var progressAt: PoolInstant
        var leakReported = false
    }

    private struct Waiter {
        let id: WaiterID
        let label: String
        let kind: LeaseKind
        let streams: Int
        let deadline: PoolInstant?
    }

    private let configuration: PoolConfiguration
    private var idle: [IdleEntry] = []
    private var leases: [ObjectIdentifier: Lease] = [:]
    private var shared: [ObjectIdentifier: SharedUse] = [:]
    private var sharedLeases = 0
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
    /// Since when Redis has not answered in time on open connections; nil when it answers.
    private var stalledSince: PoolInstant?
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
        stats.inUse = leases.count + shared.count
        stats.leasesInUse = leases.count + sharedLeases
        stats.sharedConnections = shared.count
        stats.connecting = dialing
        stats.waiting = waiters.count - waiterHead
        stats.availability = availability
        stats.stalledSince = stalledSince
        return stats
    }

    /// Up, or down since when and why.
    public var currentAvailability: PoolAvailability { availability }

    private var open: Int { idle.count + leases.count + shared.count + dialing }
    private var waiting: Int { waiters.count - waiterHead }

    // MARK: Borrowing

    /// A borrower asks for a lease of `kind` at `now` on behalf of `label` (e.g. the route; named in
    /// leak reports), for `streams` streams when shared, to be granted by `deadline` (nil: the
    /// borrower times out by itself, `waitTimedOut`).
    ///
    /// A shared lease joins a shared connection of its group that has room (the least loaded), or
    /// takes an idle connection for sharing while the group may have another. Otherwise (and for an
    /// exclusive lease) it reuses the most recently returned idle connection (LIFO), or queues (FIFO)
    /// and dials if the pool may grow. While the pool is down and nothing is idle, it fails at once.
    public mutating func borrow(
        now: PoolInstant, label: String, kind: LeaseKind = .exclusive, streams: Int = 1, deadline: PoolInstant? = nil
    ) -> Action {
        if isShutDown { return Action(borrower: .fail(.shutDown)) }
        let kind = effective(kind)
        if case .shared(let group) = kind {
            if let key = roomiest(group: group, streams: streams, now: now) {
                attach(to: key, streams: streams, now: now)
                return Action(borrower: .use(shared[key]!.member.connection, needsHealthCheck: false))
            }
            if !hasServableWaiter, sharedCount(group) < configuration.maxSharedConnectionsPerGroup, let entry = idle.popLast() {
                let check = needsCheck(entry, now: now)
                beginSharing(entry.member, group: group, streams: streams, checking: check, now: now)
                return Action(borrower: .use(entry.member.connection, needsHealthCheck: check))
            }
        } else if !hasServableWaiter, let entry = idle.popLast() {
            let stale = now.duration(since: entry.returnedAt) >= configuration.healthCheckInterval
            let suspect = suspectBefore.map { entry.returnedAt < $0 } ?? false
            leases[ObjectIdentifier(entry.member.connection)] = Lease(member: entry.member, label: label, since: now)
            if !(stale || suspect) { counters.borrows += 1 }
            return Action(borrower: .use(entry.member.connection, needsHealthCheck: stale || suspect))
        }
        if case .down(let since, let lastError) = availability {
            counters.fastFailures += 1
            return Action(borrower: .fail(.unavailable(downSince: since, lastError: lastError, statistics: statistics)))
        }
        let id = WaiterID(value: nextWaiter)
        nextWaiter += 1
        waiters.append(Waiter(id: id, label: label, kind: kind, streams: streams, deadline: deadline))
        return Action(borrower: .wait(id), dials: reserveDials(wanted: waiting - dialing))
    }

    /// True when a queued borrower could take an idle connection (it goes first). Shared borrowers
    /// of a group that has all its shared connections cannot: they wait to join one.
    private var hasServableWaiter: Bool {
        waiting > 0 && waiters[waiterHead...].contains(where: canServe)
    }

    /// The earliest deadline among the queued borrowers that gave one, for the driver's timer.
    public var nextWaiterDeadline: PoolInstant? {
        waiters[waiterHead...].lazy.compactMap(\.deadline).min()
    }

    /// Fails every queued borrower whose deadline is `now` or past (each counted as a wait timeout).
    public mutating func expireWaiters(now: PoolInstant) -> Action {
        var action = Action()
        guard waiters[waiterHead...].contains(where: { $0.deadline.map { $0 <= now } ?? false }) else { return action }
        var kept: [Waiter] = []
        for waiter in waiters[waiterHead...] {
            if let deadline = waiter.deadline, deadline <= now {
                counters.waitTimeouts += 1
                handoffs[waiter.id] = .failure(.timeout(waited: configuration.waitTimeout, statistics: statistics))
                action.wake.append(waiter.id)
            } else {
                kept.append(waiter)
            }
        }
        waiters = kept
        waiterHead = 0
        return action
    }

    /// A woken waiter takes what was handed to it; nil on a spurious wake-up.
    public mutating func collect(_ waiter: WaiterID) -> Handoff? {
        handoffs.removeValue(forKey: waiter)
    }

    /// A waiter's deadline passed: it leaves the queue and fails, unless a handoff beat it. A dial
    /// started for it goes on and serves the next borrower.
    public mutating func waitTimedOut(_ waiter: WaiterID) -> Action {
        switch handoffs.removeValue(forKey: waiter) {
        case .connection(let connection)?: return Action(borrower: .take(connection))
        case .failure(let error)?: return Action(borrower: .fail(error))
        case nil: break
        }
        if let index = waiters[waiterHead...].firstIndex(where: { $0.id == waiter }) {
            waiters.remove(at: index)
            compactWaiters()
        }
        return borrowDeadlinePassed()
    }

    /// A borrower's deadline passed while it was not queued (between health checks): it fails.
    public mutating func borrowDeadlinePassed() -> Action {
        counters.waitTimeouts += 1
        return Action(borrower: .fail(.timeout(waited: configuration.waitTimeout, statistics: statistics)))
    }

    // MARK: Dialling

    /// A dial succeeded at `now`: the pool is up; the connection goes to the first waiter or idle.
    /// `jitter` in 0..<1 shortens this connection's lifetime by up to `maxLifetimeJitter`.
    public mutating func dialSucceeded(_ connection: Connection, now: PoolInstant, jitter: Double) -> Action {
        dialing -= 1
        counters.connects += 1
        var action = Action()
        if case .down(let since, _) = availability {
            let downtime = now.duration(since: since)
            action.recoveredAfter = downtime
            counters.recoveries += 1
            counters.outageSeconds += downtime.secondsDouble
        }
        availability = .up
        failedProbes = 0
        nextProbeAt = nil
        endStall(now: now, into: &action)
        if isShutDown {
            counters.closed[.shutdown, default: 0] += 1
            action.close.append((connection, .shutdown))
            return action
        }
        let member = Member(connection: connection, expiresAt: expiry(from: now, jitter: jitter), generation: generation)
        handOver(member, now: now, into: &action)
        action.dials = reserveDials(wanted: min(1, max(waiting - dialing, minIdleDeficit)))
        return action
    }

    /// A dial failed at `now` with `message`, as `failure` classifies it.
    ///
    /// - `.unreachable`: the pool is down (if it was not already), every waiter fails at once, and
    ///   the next probe is scheduled after a backoff; `jitter` in 0..<1 spreads it.
    /// - `.stalled` while up: the pool stays up, a stall begins (if none is under way), waiters keep
    ///   waiting and one dial starts again for them (each stalled dial took a timeout to fail, so
    ///   this does not spin). While down, a stalled probe counts as a failed one.
    public mutating func dialFailed(message: String, failure: DialFailure = .unreachable, now: PoolInstant, jitter: Double) -> Action {
        dialing -= 1
        counters.connectFailures += 1
        counters.lastConnectError = message
        var action = Action()
        if failure == .stalled, case .up = availability, !isShutDown {
            beginStall(now: now, into: &action)
            action.dials = reserveDials(wanted: min(1, max(waiting - dialing, minIdleDeficit)))
            return action
        }
        var downSince = now
        switch availability {
        case .up:
            counters.outages += 1
            action.wentDown = message
            action.wakeMaintenance = true
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

    /// A connection lent with `needsHealthCheck` passed its check at `now`: the borrow is complete,
    /// and a stall under way is over (Redis answered).
    public mutating func healthCheckPassed(now: PoolInstant) -> Action {
        counters.borrows += 1
        var action = Action()
        endStall(now: now, into: &action)
        return action
    }

    /// A connection lent to a lease with `needsHealthCheck` passed its check at `now`. One taken for
    /// sharing now takes the shared borrowers of its group that queued meanwhile; an exclusive one
    /// completes its borrow, as `healthCheckPassed`.
    public mutating func sharedHealthCheckPassed(_ connection: Connection, now: PoolInstant) -> Action {
        var action = Action()
        endStall(now: now, into: &action)
        let key = ObjectIdentifier(connection)
        guard shared[key] != nil else {
            counters.borrows += 1  // an exclusive lease: counted once it passed, as `healthCheckPassed`
            return action
        }
        shared[key]!.checking = false
        grantSharedWaiters(on: key, now: now, into: &action)
        return action
    }

    /// A lent connection failed its health check at `now` (by timing out when `timedOut`): it is
    /// closed, and the idle ones returned before it are suspect too. The borrower borrows again.
    public mutating func healthCheckFailed(_ connection: Connection, timedOut: Bool, now: PoolInstant) -> Action {
        leases[ObjectIdentifier(connection)] = nil
        if let use = shared.removeValue(forKey: ObjectIdentifier(connection)) {
            sharedLeases -= use.leases
            counters.borrows -= use.leases  // counted when granted; the borrower borrows again
        }
        suspectBefore = now
        counters.healthCheckFailures += 1
        counters.closed[.healthCheckFailed, default: 0] += 1
        var action = Action()
        action.close = [(connection, .healthCheckFailed)]
        if timedOut { beginStall(now: now, into: &action) }
        serveIdle(now: now, into: &action)
        return action
    }

    /// A lent connection that was to be health-checked first reached its borrower's deadline before
    /// the check could start: it goes back unchecked and unused (not closed: nothing is known
    /// against it), and the borrow is a wait timeout, not a borrow.
    public mutating func healthCheckSkipped(_ connection: Connection, now: PoolInstant) -> Action {
        let key = ObjectIdentifier(connection)
        let member: Member
        if let use = shared.removeValue(forKey: key) {
            sharedLeases -= use.leases
            counters.borrows -= use.leases
            member = use.member
        } else if let lease = leases.removeValue(forKey: key) {
            member = lease.member
        } else {
            preconditionFailure("skipped the check of a connection that is not lent out")
        }
        counters.waitTimeouts += 1
        var action = Action()
        handOver(member, now: now, into: &action)
        return action
    }

    // MARK: Returning

    /// A borrower returns `connection` at `now`. A reusable one goes to the first waiter or back on
    /// the idle stack, and ends a stall under way (Redis answered). It is closed instead when not
    /// reusable (counted under `closeReason`; a broken or timed-out one makes its idle siblings
    /// suspect, and a timed-out one begins a stall), past its lifetime, or stale after `invalidateAll`.
    ///
    /// Shared leases (`leases` of them at once, `streams` in all, as they were borrowed) leave their
    /// connection; the connection is given back as above once its last lease left, and meanwhile
    /// takes the shared borrowers of its group that queued, as far as room allows. One that came
    /// back broken takes no more.
    public mutating func release(
        _ connection: Connection, reusable: Bool, now: PoolInstant, closeReason: ConnectionCloseReason = .broken, streams: Int = 1,
        leases count: Int = 1
    ) -> Action {
        let key = ObjectIdentifier(connection)
        if shared[key] != nil {
            return releaseShared(key, leases: count, streams: streams, reusable: reusable, now: now, closeReason: closeReason)
        }
        guard let lease = leases.removeValue(forKey: key) else {
            preconditionFailure("released a connection that is not lent out")
        }
        return giveBack(lease.member, reusable: reusable, now: now, closeReason: closeReason)
    }

    /// Shared leases that reached their deadline before their commands could be sent (their
    /// connection stayed busy) leave it unused: each is a wait timeout, not a borrow, and says
    /// nothing about the connection (which another thread may be using: it is not looked at).
    public mutating func releaseUnused(_ connection: Connection, streams: Int, leases count: Int, now: PoolInstant) -> Action {
        let key = ObjectIdentifier(connection)
        guard shared[key] != nil else { preconditionFailure("released unused leases of a connection that is not shared") }
        counters.borrows -= count
        counters.waitTimeouts += count
        return releaseShared(key, leases: count, streams: streams, reusable: true, now: now, closeReason: .broken, unused: true)
    }

    private mutating func releaseShared(
        _ key: ObjectIdentifier, leases count: Int, streams: Int, reusable: Bool, now: PoolInstant, closeReason: ConnectionCloseReason,
        unused: Bool = false
    ) -> Action {
        var use = shared[key]!
        precondition(count > 0 && count <= use.leases, "released more shared leases than the connection carries")
        use.streams -= streams
        use.leases -= count
        sharedLeases -= count
        if !unused {
            use.progressAt = now
            use.leakReported = false
        }
        var action = Action()
        if unused {
            // Nothing learnt about the connection or Redis.
        } else if !reusable, use.broken == nil {
            use.broken = closeReason
            if closeReason == .broken || closeReason == .timedOut { suspectBefore = now }
            if closeReason == .timedOut { beginStall(now: now, into: &action) }
        }
        if reusable, !unused { endStall(now: now, into: &action) }
        guard use.leases == 0 else {
            shared[key] = use
            grantSharedWaiters(on: key, now: now, into: &action)
            return action
        }
        shared[key] = nil
        var whole = giveBack(use.member, reusable: use.broken == nil, now: now, closeReason: use.broken ?? .broken, ended: true)
        whole.merge(action)
        return whole
    }

    /// A connection that no lease holds any more, back in the pool: closed or handed over.
    private mutating func giveBack(
        _ member: Member, reusable: Bool, now: PoolInstant, closeReason: ConnectionCloseReason, ended: Bool = false
    ) -> Action {
        let connection = member.connection
        var action = Action()
        let reason: ConnectionCloseReason?
        if isShutDown {
            reason = reusable ? .shutdown : closeReason
        } else if !reusable {
            reason = closeReason
            if !ended, closeReason == .broken || closeReason == .timedOut { suspectBefore = now }
            if !ended, closeReason == .timedOut { beginStall(now: now, into: &action) }
        } else if member.generation != generation {
            reason = .invalidated
        } else if let expiresAt = member.expiresAt, now >= expiresAt {
            reason = .expired
        } else {
            reason = nil
        }
        if reusable, !ended { endStall(now: now, into: &action) }
        if let reason {
            counters.closed[reason, default: 0] += 1
            action.close.append((connection, reason))
            // A shared connection fewer: queued shared borrowers of its group may take idle ones now.
            if ended { serveIdle(now: now, into: &action) }
            if !isShutDown, case .up = availability { action.dials = reserveDials(wanted: waiting - dialing) }
            return action
        }
        handOver(member, now: now, into: &action)
        return action
    }

    // MARK: Handing over

    /// A free connection goes to the first queued borrower it can serve (a shared one only while
    /// its group may have another shared connection), with the shared borrowers of the same group
    /// right behind it as far as room allows; or it goes idle.
    private mutating func handOver(_ member: Member, now: PoolInstant, into action: inout Action) {
        let connection = member.connection
        guard let index = waiters[waiterHead...].firstIndex(where: { canServe($0) }) else {
            idle.append(IdleEntry(member: member, returnedAt: now))
            return
        }
        let waiter = waiters.remove(at: index)
        compactWaiters()
        counters.borrows += 1
        handoffs[waiter.id] = .connection(connection)
        action.wake.append(waiter.id)
        switch waiter.kind {
        case .exclusive:
            leases[ObjectIdentifier(connection)] = Lease(member: member, label: waiter.label, since: now)
        case .shared(let group):
            counters.borrows -= 1  // `beginSharing` counts it
            beginSharing(member, group: group, streams: waiter.streams, checking: false, now: now)
            grantSharedWaiters(on: ObjectIdentifier(connection), now: now, into: &action)
        }
    }

    /// Idle connections go to the queued borrowers that can take them (after a shared connection
    /// closed, its group may have another).
    private mutating func serveIdle(now: PoolInstant, into action: inout Action) {
        while !idle.isEmpty, hasServableWaiter {
            handOver(idle.removeLast().member, now: now, into: &action)
        }
    }

    private func canServe(_ waiter: Waiter) -> Bool {
        switch waiter.kind {
        case .exclusive: true
        case .shared(let group): sharedCount(group) < configuration.maxSharedConnectionsPerGroup
        }
    }

    /// Queued shared borrowers of the connection's group join it, in queue order, while it has room.
    private mutating func grantSharedWaiters(on key: ObjectIdentifier, now: PoolInstant, into action: inout Action) {
        guard let use = shared[key], canAttach(use, now: now), waiting > 0 else { return }
        var index = waiterHead
        while index < waiters.count, let current = shared[key] {
            let waiter = waiters[index]
            guard case .shared(let group) = waiter.kind, group == use.group else {
                index += 1
                continue
            }
            guard current.streams + waiter.streams <= configuration.maxStreamsPerConnection else { break }
            waiters.remove(at: index)
            attach(to: key, streams: waiter.streams, now: now)
            handoffs[waiter.id] = .connection(use.member.connection)
            action.wake.append(waiter.id)
        }
        compactWaiters()
    }

    // MARK: Sharing

    /// Sharing applies only when the pool lends connections for it.
    private func effective(_ kind: LeaseKind) -> LeaseKind {
        configuration.maxSharedConnectionsPerGroup > 0 && configuration.reuseConnections ? kind : .exclusive
    }

    private func sharedCount(_ group: Int) -> Int {
        shared.values.lazy.filter { $0.group == group }.count
    }

    private func canAttach(_ use: SharedUse, now: PoolInstant) -> Bool {
        use.broken == nil && !use.checking && use.member.generation == generation && !isShutDown
            && (use.member.expiresAt.map { now < $0 } ?? true)
    }

    /// The shared connection of `group` with the fewest streams in flight that has room for `streams` more.
    private func roomiest(group: Int, streams: Int, now: PoolInstant) -> ObjectIdentifier? {
        var best: (key: ObjectIdentifier, streams: Int)?
        for (key, use) in shared where use.group == group && canAttach(use, now: now) {
            guard use.streams + streams <= configuration.maxStreamsPerConnection else { continue }
            if best == nil || use.streams < best!.streams { best = (key, use.streams) }
        }
        return best?.key
    }

    private mutating func attach(to key: ObjectIdentifier, streams: Int, now: PoolInstant) {
        shared[key]!.streams += streams
        shared[key]!.leases += 1
        sharedLeases += 1
        counters.borrows += 1
    }

    private mutating func beginSharing(_ member: Member, group: Int, streams: Int, checking: Bool, now: PoolInstant) {
        shared[ObjectIdentifier(member.connection)] = SharedUse(
            member: member, group: group, streams: streams, leases: 1, broken: nil, checking: checking, progressAt: now)
        sharedLeases += 1
        counters.borrows += 1
    }

    private func needsCheck(_ entry: IdleEntry, now: PoolInstant) -> Bool {
        now.duration(since: entry.returnedAt) >= configuration.healthCheckInterval || (suspectBefore.map { entry.returnedAt < $0 } ?? false)
    }

    // MARK: Maintenance

    /// The background maintenance at `now`: closes idle connections past their lifetime or idle
    /// longer than `idleTimeout` (beyond `minIdle`), reports borrows held too long, dials to keep
    /// `minIdle` while up, or starts the single probe once its backoff passed while down.
    public mutating func maintain(now: PoolInstant) -> Action {
        var action = Action()
        action.nextMaintenance = now.advanced(by: configuration.maintenanceInterval)
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
            for (key, use) in shared where !use.leakReported && now.duration(since: use.progressAt) >= threshold {
                shared[key]?.leakReported = true
                counters.leaksDetected += 1
                action.leaks.append(LeakReport(label: "\(use.leases) shared leases", heldFor: now.duration(since: use.progressAt)))
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
                    action.nextMaintenance = min(action.nextMaintenance ?? due, due)
                }
            }
        }
        return action
    }

    /// Marks every connection open now as stale (e.g. the Redis master moved): the idle ones are
    /// closed now, the lent ones when they come back. A pool that is down probes at once: the server
    /// it could not reach may just have been replaced.
    public mutating func invalidateAll(now: PoolInstant) -> Action {
        generation += 1
        if case .down = availability, let due = nextProbeAt { nextProbeAt = min(due, now) }
        var action = Action()
        action.close = idle.map { ($0.member.connection, .invalidated) }
        action.wakeMaintenance = true
        counters.closed[.invalidated, default: 0] += idle.count
        idle.removeAll()
        return action
    }

    // MARK: Shutting down

    /// Shuts the pool: the idle connections are closed and every waiter is woken to fail.
    public mutating func shutDown() -> Action {
        isShutDown = true
        var action = Action()
        action.close = idle.map { ($0.member.connection, .shutdown) }
        action.wakeMaintenance = true
        counters.closed[.shutdown, default: 0] += idle.count
        idle.removeAll()
        while let waiter = popWaiter() {
            handoffs[waiter.id] = .failure(.shutDown)
            action.wake.append(waiter.id)
        }
        return action
    }

    // MARK: Stalls

    private mutating func beginStall(now: PoolInstant, into action: inout Action) {
        suspectBefore = now
        guard stalledSince == nil else { return }
        stalledSince = now
        counters.stalls += 1
        action.stallBegan = true
    }

    private mutating func endStall(now: PoolInstant, into action: inout Action) {
        guard let since = stalledSince else { return }
        stalledSince = nil
        let lasted = now.duration(since: since)
        counters.stallSeconds += lasted.secondsDouble
        action.stallEndedAfter = lasted
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
