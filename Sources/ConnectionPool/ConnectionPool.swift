/// One shared, blocking, bounded pool of connections.
///
/// - At most `maxConnections` are open at any time. Borrowers never dial: a borrower that finds
///   nothing idle queues (first come first served) and the pool dials for it on a dialling thread,
///   at most `maxConcurrentDials` at once; a dial whose borrower gave up serves the next one.
/// - Two kinds of lease (`LeaseKind`): an exclusive one (`withConnection`, or `lease(.exclusive…)`)
///   has the connection to itself; shared ones (`lease(.shared…)`) ride one connection together,
///   up to `maxStreamsPerConnection` streams (`PoolStateMachine`). Each lease is one borrow in the
///   statistics, whichever kind.
/// - One deadline covers the whole borrow: waiting, dialling, health check. The caller brings it
///   (its request's), or it is `waitTimeout` from the borrow. A queued asynchronous lease fails at
///   its deadline, on the pool's timer thread, even while no connection comes back.
/// - Idle connections are reused last-in first-out; one idle for `healthCheckInterval` or more, or
///   idle while a sibling came back broken, is health-checked first and replaced if the check fails.
/// - A connection that is not `isReusable` when it comes back is closed, never lent again.
/// - A failed dial marks the pool down: borrowers that find nothing idle fail at once with
///   `.unavailable` until a background probe (capped exponential backoff with jitter) succeeds.
/// - Background maintenance keeps `minIdle` connections open (from the start and after an outage),
///   closes connections past `maxLifetime` or idle past `idleTimeout`, and reports borrows held
///   longer than `leakDetectionThreshold`, without touching the borrowing path.
///
/// Threading: every method may be called from any thread. Decisions are taken by
/// `PoolStateMachine` under a lock; dials, health checks and closes happen outside it. The pool's
/// threads are a fixed set: `pool-dial-N` (`maxConcurrentDials` of them, plus one for health checks
/// of asynchronous leases) and one `pool-timer` (maintenance, lease deadlines, `schedule`).
/// Lifecycle: usable at once; `shutDown()` closes idle connections, fails every waiting and later
/// borrow and stops the timer thread; connections still lent out are closed when they come back.
public final class ConnectionPool<Factory: ConnectionFactory>: Sendable {
    /// The pooled connection type.
    public typealias Connection = Factory.Connection
    private typealias Machine = PoolStateMachine<Connection>

    /// What an asynchronous lease is told: its lease, or why it got none.
    public typealias Granted = @Sendable (Result<PoolLease<Connection>, PoolError>) -> Void

    /// A queued asynchronous lease.
    private struct Pending {
        let kind: LeaseKind
        let streams: Int
        let label: String
        let deadline: PoolInstant
        let start: PoolInstant
        let granted: Granted
    }

    private struct Scheduled {
        let at: PoolInstant
        let work: @Sendable () -> Void
    }

    private enum ScheduleStep { case queued, wakeTimer, runNow }

    private struct State {
        var machine: Machine
        /// The condition each queued borrower waits on, registered on its first poll.
        var conditions: [Machine.WaiterID: ConditionLock<State>.Condition] = [:]
        /// Conditions of borrowers that finished waiting, reused so none is allocated under the lock.
        var spareConditions: [ConditionLock<State>.Condition] = []
        /// Queued asynchronous leases, told when the machine wakes them.
        var pending: [Machine.WaiterID: Pending] = [:]
        /// Work for the timer thread (`schedule`).
        var scheduled: [Scheduled] = []
        /// When the timer thread wakes next; it is signalled when something is due earlier.
        var timerDueAt = PoolInstant(nanoseconds: 0)
        var timerWanted = false
        var maintenanceWanted = false
    }

    /// The limits and timings this pool was created with.
    public let configuration: PoolConfiguration
    /// What makes the pool's connections (a side connection of the same kind, outside the pool).
    public let factory: Factory
    private let observer: any ConnectionPoolObserver
    private let lock: ConditionLock<State>
    private let maintenanceSignal: ConditionLock<State>.Condition
    /// Dials, and health checks of asynchronous leases: never on a borrower's thread.
    private let dialWorkers: BlockingWorkers

    /// A pool opening connections with `factory`, reporting timings and events to `observer`. Starts
    /// the maintenance thread, which at once dials `minIdle` connections.
    public init(
        configuration: PoolConfiguration,
        factory: Factory,
        observer: any ConnectionPoolObserver = NoPoolObserver()
    ) {
        precondition(configuration.maxConnections > 0, "maxConnections must be positive")
        precondition(configuration.maxConcurrentDials > 0, "maxConcurrentDials must be positive")
        var configuration = configuration
        if !configuration.reuseConnections { configuration.minIdle = 0 }  // nothing is kept in per-borrow mode
        self.configuration = configuration
        self.factory = factory
        self.observer = observer
        self.lock = ConditionLock(State(machine: Machine(configuration: configuration)))
        self.maintenanceSignal = lock.makeCondition()
        // Dials wait for no thread (the machine starts at most `maxConcurrentDials`); the extra one
        // serves health checks.
        self.dialWorkers = BlockingWorkers(
            name: "pool-dial", limit: configuration.maxConcurrentDials + 1, startTimeout: .seconds(86_400))
        startTimer()
    }

    /// Borrows a connection on behalf of `label` (named in leak reports, e.g. the route), runs `body`
    /// with it and gives it back on every path (a thrown error included). A connection that is not
    /// reusable afterwards is closed and discarded. The borrow must succeed by `deadline` (by
    /// default `waitTimeout` from now).
    public func withConnection<Result, Failure: Error>(
        label: String = "",
        deadline: PoolInstant? = nil,
        _ body: (Connection) throws(Failure) -> Result
    ) throws(BorrowError<Failure>) -> Result {
        let connection: Connection
        do {
            connection = try borrow(label: label, deadline: deadline)
        } catch {
            throw .pool(error)
        }
        let borrowedAt = PoolInstant.now()
        let result: Result
        do {
            result = try body(connection)
        } catch {
            giveBack(connection, borrowedAt: borrowedAt)
            throw .operation(error)
        }
        giveBack(connection, borrowedAt: borrowedAt)
        return result
    }

    /// The pool's gauges and counters now.
    public var statistics: PoolStatistics {
        lock.withLock { $0.machine.statistics }
    }

    /// Up, or down since when and why.
    public var availability: PoolAvailability {
        lock.withLock { $0.machine.currentAvailability }
    }

    /// Closes every idle connection and marks the lent ones to be closed when they come back (e.g.
    /// the server they point at is no longer the right one). New borrows get fresh connections; a
    /// pool that is down probes at once.
    public func invalidateAll() {
        run(decide { $0.invalidateAll(now: .now()) })
    }

    /// Closes the idle connections, fails every waiting and later borrow with `.shutDown` and
    /// stops the maintenance thread.
    public func shutDown() {
        run(decide { $0.shutDown() })
        dialWorkers.stop()
    }

    /// Runs `work` on the pool's timer thread at `instant` (at once when the pool shuts down). The
    /// work must not block: it shares the thread with the pool's upkeep and deadlines. Re-sends wait
    /// here, so no thread is started or held per re-send.
    public func schedule(at instant: PoolInstant, _ work: @escaping @Sendable () -> Void) {
        let next = lock.withLock { state -> ScheduleStep in
            // The timer thread ends with the pool: work scheduled after that runs at once.
            if state.machine.isShutDown { return .runNow }
            state.scheduled.append(Scheduled(at: instant, work: work))
            guard instant < state.timerDueAt else { return .queued }
            state.timerDueAt = instant
            state.timerWanted = true
            return .wakeTimer
        }
        switch next {
        case .queued: break
        case .wakeTimer: maintenanceSignal.signal()
        case .runNow: work()
        }
    }

    // MARK: Deciding and acting

    /// A transition of the state machine under the lock, with the conditions of the waiters it wakes
    /// and the asynchronous leases it settles (each collected here, under the lock).
    private func decide(_ transition: (inout Machine) -> Machine.Action) -> Decision {
        lock.withLock { state in
            let action = transition(&state.machine)
            if action.wakeMaintenance { state.maintenanceWanted = true }
            var conditions: [ConditionLock<State>.Condition] = []
            var settled: [(Pending, Machine.Handoff)] = []
            for waiter in action.wake {
                if let condition = state.conditions[waiter] {
                    conditions.append(condition)
                } else if let pending = state.pending.removeValue(forKey: waiter), let handoff = state.machine.collect(waiter) {
                    settled.append((pending, handoff))
                }
            }
            return Decision(action: action, conditions: conditions, settled: settled)
        }
    }

    /// Carries out a decision outside the lock: wakes, settles leases, closes, reports, dials.
    private func run(_ decision: Decision) {
        let action = decision.action
        decision.conditions.forEach { $0.signal() }
        if !decision.settled.isEmpty {
            let now = PoolInstant.now()
            for (pending, handoff) in decision.settled {
                switch handoff {
                case .connection(let connection):
                    finish(pending, .success(PoolLease(connection: connection, streams: pending.streams, grantedAt: now)))
                case .failure(let error):
                    finish(pending, .failure(error))
                }
            }
        }
        if action.wakeMaintenance { maintenanceSignal.signal() }
        for (connection, reason) in action.close {
            connection.close()
            observer.connectionClosed(reason: reason)
        }
        if let message = action.wentDown { observer.poolWentDown(error: message) }
        if let downtime = action.recoveredAfter { observer.poolRecovered(after: downtime) }
        if action.stallBegan { observer.stallBegan() }
        if let lasted = action.stallEndedAfter { observer.stallEnded(after: lasted) }
        action.leaks.forEach(observer.leakDetected)
        for _ in 0..<action.dials {
            dialWorkers.run { [self] started in
                if started { return dialOnce() }
                run(decide { $0.dialFailed(message: "the pool is shut down", now: .now(), jitter: 0) })
            }
        }
    }

    private struct Decision {
        let action: Machine.Action
        let conditions: [ConditionLock<State>.Condition]
        var settled: [(Pending, Machine.Handoff)] = []
    }

    // MARK: Leasing asynchronously

    /// Asks for a lease of `kind` (for `streams` streams when shared) on behalf of `label`, without
    /// waiting: `granted` is called once, with the lease or the failure, by `deadline` at the latest
    /// — on this thread when the pool decides at once, else on the thread that frees a connection,
    /// a dial or health-check thread, or the timer thread at the deadline. It must not block. The
    /// lease is given back with `giveBack(_:)`.
    public func lease(
        _ kind: LeaseKind, streams: Int = 1, label: String, deadline: PoolInstant, granted: @escaping Granted
    ) {
        lease(Pending(kind: kind, streams: streams, label: label, deadline: deadline, start: .now(), granted: granted))
    }

    private func lease(_ pending: Pending) {
        let now = PoolInstant.now()
        let (action, wakeTimer) = lock.withLock { state -> (Machine.Action, Bool) in
            if now >= pending.deadline { return (state.machine.borrowDeadlinePassed(), false) }
            let action = state.machine.borrow(
                now: now, label: pending.label, kind: pending.kind, streams: pending.streams, deadline: pending.deadline)
            guard case .wait(let waiter)? = action.borrower else { return (action, false) }
            state.pending[waiter] = pending
            guard pending.deadline < state.timerDueAt else { return (action, false) }
            state.timerDueAt = pending.deadline
            state.timerWanted = true
            return (action, true)
        }
        if wakeTimer { maintenanceSignal.signal() }
        switch action.borrower {
        case .use(let connection, let needsHealthCheck)?:
            let lease = PoolLease(connection: connection, streams: pending.streams, grantedAt: now)
            if needsHealthCheck {
                dialWorkers.run { [self] started in checkThenGrant(lease, pending, started: started) }
            } else {
                finish(pending, .success(lease))
            }
        case .wait?:
            run(Decision(action: action, conditions: []))
        case .take(let connection)?:
            finish(pending, .success(PoolLease(connection: connection, streams: pending.streams, grantedAt: now)))
        case .fail(let error)?:
            finish(pending, .failure(error))
        case nil:
            preconditionFailure("a borrow always tells the borrower what to do")
        }
    }

    /// The health check of a connection an asynchronous lease got from idle, on a dial thread: the
    /// lease is granted when it passes, and asked for again (same deadline) when it fails.
    /// A check that could not start before the deadline gives the connection back unchecked.
    private func checkThenGrant(_ lease: PoolLease<Connection>, _ pending: Pending, started: Bool) {
        let connection = lease.connection
        let remaining = pending.deadline.duration(since: .now())
        guard started, remaining > .zero else {
            run(decide { $0.healthCheckSkipped(connection, now: .now()) })
            finish(pending, .failure(.timeout(waited: configuration.waitTimeout, statistics: statistics)))
            return
        }
        if connection.checkHealth(timeout: remaining) {
            run(decide { $0.sharedHealthCheckPassed(connection, now: .now()) })
            finish(pending, .success(lease))
            return
        }
        let timedOut = connection.failedByTimeout
        run(decide { $0.healthCheckFailed(connection, timedOut: timedOut, now: .now()) })
        self.lease(pending)
    }

    private func finish(_ pending: Pending, _ result: Result<PoolLease<Connection>, PoolError>) {
        let waited = PoolInstant.now().duration(since: pending.start)
        switch result {
        case .success: observer.borrowFinished(waited: waited, outcome: .succeeded)
        case .failure(let error): observer.borrowFinished(waited: waited, outcome: BorrowOutcome(error))
        }
        pending.granted(result)
    }

    /// Shared leases, all on one connection, that reached their deadline before they could use it
    /// (it stayed busy): each is a wait timeout, not a borrow. The connection is not looked at (its
    /// I/O thread may be using it).
    public func giveBackUnused(_ leases: [PoolLease<Connection>], waited: Duration) {
        guard let connection = leases.first?.connection else { return }
        let streams = leases.reduce(0) { $0 + $1.streams }
        let decision = decide { $0.releaseUnused(connection, streams: streams, leases: leases.count, now: .now()) }
        for _ in leases { observer.borrowFinished(waited: waited, outcome: .timedOut) }
        run(decision)
    }

    /// Gives back `leases`, all on one connection (one exclusive lease, or shared ones that are
    /// done): the connection is closed when it is no longer reusable, once its last lease is back.
    public func giveBack(_ leases: [PoolLease<Connection>]) {
        guard let connection = leases.first?.connection else { return }
        let (reusable, reason) = returnState(of: connection)
        let now = PoolInstant.now()
        let streams = leases.reduce(0) { $0 + $1.streams }
        let decision = decide {
            $0.release(connection, reusable: reusable, now: now, closeReason: reason, streams: streams, leases: leases.count)
        }
        for lease in leases { observer.connectionReturned(after: now.duration(since: lease.grantedAt)) }
        run(decision)
    }

    // MARK: Borrowing

    /// A borrower that queued in front of the pool (for a worker thread) reached its deadline
    /// before it could borrow: counted and reported as a wait timeout, like one that waited in the
    /// pool, so the statistics name every request that got no connection in time. Returns the
    /// error such a borrow throws.
    public func waitTimedOutBeforeBorrowing(waited: Duration) -> PoolError {
        let failure = lock.withLock { $0.machine.borrowDeadlinePassed().borrower }
        observer.borrowFinished(waited: waited, outcome: .timedOut)
        if case .fail(let error)? = failure { return error }
        return .timeout(waited: waited, statistics: statistics)
    }

    private func borrow(label: String, deadline: PoolInstant?) throws(PoolError) -> Connection {
        // (A synchronous borrower times out by itself, in `wait`: the machine is given no deadline.)
        let start = PoolInstant.now()
        do {
            let connection = try acquire(label: label, deadline: deadline ?? start.advanced(by: configuration.waitTimeout))
            observer.borrowFinished(waited: PoolInstant.now().duration(since: start), outcome: .succeeded)
            return connection
        } catch {
            observer.borrowFinished(waited: PoolInstant.now().duration(since: start), outcome: BorrowOutcome(error))
            throw error
        }
    }

    private func acquire(label: String, deadline: PoolInstant) throws(PoolError) -> Connection {
        while true {
            let (action, spare) = lock.withLock { state in
                if PoolInstant.now() >= deadline { return (state.machine.borrowDeadlinePassed(), nil as ConditionLock<State>.Condition?) }
                let action = state.machine.borrow(now: .now(), label: label)
                guard case .wait? = action.borrower else { return (action, nil) }
                return (action, state.spareConditions.popLast())
            }
            switch action.borrower {
            case .use(let connection, let needsHealthCheck)?:
                if !needsHealthCheck || passesHealthCheck(connection, deadline: deadline) { return connection }
            case .wait(let waiter)?:
                run(Decision(action: action, conditions: []))
                return try wait(as: waiter, on: spare ?? lock.makeCondition(), deadline: deadline)
            case .take(let connection)?:
                return connection
            case .fail(let error)?:
                throw error
            case nil:
                preconditionFailure("a borrow always tells the borrower what to do")
            }
        }
    }

    private func wait(
        as waiter: Machine.WaiterID, on condition: ConditionLock<State>.Condition, deadline: PoolInstant
    ) throws(PoolError) -> Connection {
        let step: BorrowerStep<Connection> = lock.wait(
            on: condition,
            until: deadline,
            poll: { state in
                guard let handoff = state.machine.collect(waiter) else {
                    // Registered under the lock before the first wait: no handoff can miss it.
                    if state.conditions[waiter] == nil { state.conditions[waiter] = condition }
                    return nil
                }
                state.conditions[waiter] = nil
                state.spareConditions.append(condition)
                switch handoff {
                case .connection(let connection): return .take(connection)
                case .failure(let error): return .fail(error)
                }
            },
            timedOut: { state in
                state.conditions[waiter] = nil
                state.spareConditions.append(condition)
                return state.machine.waitTimedOut(waiter).borrower ?? .fail(.shutDown)
            }
        )
        switch step {
        case .take(let connection), .use(let connection, _): return connection
        case .fail(let error): throw error
        case .wait: preconditionFailure("a woken waiter never waits again")
        }
    }

    /// Health-checks an idle connection within what is left of the deadline (a stalled Redis may
    /// answer within it); a failed one is closed.
    private func passesHealthCheck(_ connection: Connection, deadline: PoolInstant) -> Bool {
        let remaining = deadline.duration(since: .now())
        if remaining > .zero, connection.checkHealth(timeout: remaining) {
            run(decide { $0.healthCheckPassed(now: .now()) })
            return true
        }
        let timedOut = connection.failedByTimeout
        run(decide { $0.healthCheckFailed(connection, timedOut: timedOut, now: .now()) })
        return false
    }

    // MARK: Dialling

    /// One dial, its result handed to the state machine (which may ask for the next one).
    private func dialOnce() {
        let start = PoolInstant.now()
        let dialled: Swift.Result<Connection, any Error>
        do {
            dialled = .success(try factory.makeConnection())
        } catch {
            dialled = .failure(error)
        }
        let now = PoolInstant.now()
        let jitter = Double.random(in: 0..<1)
        switch dialled {
        case .success(let connection):
            let decision = decide { $0.dialSucceeded(connection, now: now, jitter: jitter) }
            observer.connectionCreated(in: now.duration(since: start))
            run(decision)
        case .failure(let error):
            let message = String(describing: error)
            let failure = factory.classify(error)
            let decision = decide { $0.dialFailed(message: message, failure: failure, now: now, jitter: jitter) }
            observer.connectFailed(message: message)
            run(decision)
        }
    }

    // MARK: The timer thread

    /// The one `pool-timer` thread: maintenance every `maintenanceInterval` (sooner when asked),
    /// queued asynchronous leases failed at their deadlines, scheduled work run when due.
    private func startTimer() {
        let lock = self.lock
        let signal = maintenanceSignal
        PoolThread.start(name: "pool-timer") { [weak self] in
            var maintenanceDue = PoolInstant.now()
            while true {
                guard let pool = self else { return }
                if PoolInstant.now() >= maintenanceDue {
                    guard let next = pool.maintainOnce() else { return pool.runScheduled(all: true) }
                    maintenanceDue = next
                }
                let wake = pool.fireTimers(now: .now(), maintenanceDue: maintenanceDue)
                let maintainNow = lock.wait(
                    on: signal,
                    until: wake,
                    poll: { state -> Bool? in
                        if state.machine.isShutDown || state.maintenanceWanted {
                            state.maintenanceWanted = false
                            return true
                        }
                        guard state.timerWanted else { return nil }
                        state.timerWanted = false
                        return false
                    },
                    timedOut: { _ in false })
                if maintainNow { maintenanceDue = .now() }
            }
        }
    }

    /// Fails the queued leases whose deadline passed and runs the scheduled work that is due;
    /// returns when the timer should wake next.
    private func fireTimers(now: PoolInstant, maintenanceDue: PoolInstant) -> PoolInstant {
        run(decide { $0.expireWaiters(now: now) })
        runScheduled(all: false)
        return lock.withLock { state in
            var next = maintenanceDue
            if let deadline = state.machine.nextWaiterDeadline { next = min(next, deadline) }
            for item in state.scheduled { next = min(next, item.at) }
            state.timerDueAt = next
            state.timerWanted = false
            return next
        }
    }

    private func runScheduled(all: Bool) {
        let now = PoolInstant.now()
        let due = lock.withLock { state -> [Scheduled] in
            let due = state.scheduled.filter { all || $0.at <= now }
            if !due.isEmpty { state.scheduled.removeAll { all || $0.at <= now } }
            return due
        }
        for item in due { item.work() }
    }

    /// One maintenance pass; nil once the pool is shut down.
    private func maintainOnce() -> PoolInstant? {
        let (decision, isShutDown) = lock.withLock { state in
            (Decision(action: state.machine.maintain(now: .now()), conditions: []), state.machine.isShutDown)
        }
        if isShutDown { return nil }
        run(decision)
        return decision.action.nextMaintenance
    }

    // MARK: Returning

    private func giveBack(_ connection: Connection, borrowedAt: PoolInstant) {
        let (reusable, reason) = returnState(of: connection)
        let now = PoolInstant.now()
        let decision = decide { $0.release(connection, reusable: reusable, now: now, closeReason: reason) }
        observer.connectionReturned(after: now.duration(since: borrowedAt))
        run(decision)
    }

    /// Whether a connection coming back may be lent again, and the reason it is closed if not.
    private func returnState(of connection: Connection) -> (reusable: Bool, reason: ConnectionCloseReason) {
        let healthy = connection.isReusable
        let reason: ConnectionCloseReason =
            healthy ? .notReused : connection.failedByTimeout ? .timedOut : connection.changedState ? .stateChanged : .broken
        return (healthy && configuration.reuseConnections, reason)
    }
}
