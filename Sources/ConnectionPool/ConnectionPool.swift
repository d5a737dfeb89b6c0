/// One shared, blocking, bounded pool of connections.
///
/// - At most `maxConnections` are open at any time. Borrowers never dial: a borrower that finds
///   nothing idle queues (first come first served) and the pool dials for it on a dialling thread,
///   at most `maxConcurrentDials` at once; a dial whose borrower gave up serves the next one.
/// - One deadline (`waitTimeout`) covers the whole borrow: waiting, health check.
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
/// `PoolStateMachine` under a lock; dials, health checks and closes happen outside it.
/// Lifecycle: usable at once; `shutDown()` closes idle connections, fails every waiting and later
/// borrow and stops the maintenance thread; connections still lent out are closed when they come back.
public final class ConnectionPool<Factory: ConnectionFactory>: Sendable {
    /// The pooled connection type.
    public typealias Connection = Factory.Connection
    private typealias Machine = PoolStateMachine<Connection>

    private struct State {
        var machine: Machine
        /// The condition each queued borrower waits on, registered on its first poll.
        var conditions: [Machine.WaiterID: ConditionLock<State>.Condition] = [:]
        /// Conditions of borrowers that finished waiting, reused so none is allocated under the lock.
        var spareConditions: [ConditionLock<State>.Condition] = []
        var maintenanceWanted = false
    }

    /// The limits and timings this pool was created with.
    public let configuration: PoolConfiguration
    /// What makes the pool's connections (a side connection of the same kind, outside the pool).
    public let factory: Factory
    private let observer: any ConnectionPoolObserver
    private let lock: ConditionLock<State>
    private let maintenanceSignal: ConditionLock<State>.Condition

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
        startMaintenance()
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
    }

    // MARK: Deciding and acting

    /// A transition of the state machine under the lock, with the conditions of the waiters it wakes.
    private func decide(_ transition: (inout Machine) -> Machine.Action) -> Decision {
        lock.withLock { state in
            let action = transition(&state.machine)
            if action.wakeMaintenance { state.maintenanceWanted = true }
            return Decision(action: action, conditions: action.wake.compactMap { state.conditions[$0] })
        }
    }

    /// Carries out a decision outside the lock: wakes, closes, reports, dials.
    private func run(_ decision: Decision) {
        let action = decision.action
        decision.conditions.forEach { $0.signal() }
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
            PoolThread.start(name: "pool-dial") { [self] in dialOnce() }
        }
    }

    private struct Decision {
        let action: Machine.Action
        let conditions: [ConditionLock<State>.Condition]
    }

    // MARK: Borrowing

    /// A borrower that queued in front of the pool (a batch sender's queue) reached its deadline
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

    // MARK: Maintenance

    private func startMaintenance() {
        let lock = self.lock
        let signal = maintenanceSignal
        PoolThread.start(name: "pool-maintenance") { [weak self] in
            while let nextRun = self?.maintainOnce() {
                _ = lock.wait(
                    on: signal,
                    until: nextRun,
                    poll: { state in
                        if state.machine.isShutDown { return true }
                        guard state.maintenanceWanted else { return nil }
                        state.maintenanceWanted = false
                        return true
                    },
                    timedOut: { _ in true })
            }
        }
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
        let healthy = connection.isReusable
        let reusable = healthy && configuration.reuseConnections
        let reason: ConnectionCloseReason =
            healthy ? .notReused : connection.failedByTimeout ? .timedOut : connection.changedState ? .stateChanged : .broken
        let now = PoolInstant.now()
        let decision = decide { $0.release(connection, reusable: reusable, now: now, closeReason: reason) }
        observer.connectionReturned(after: now.duration(since: borrowedAt))
        run(decision)
    }
}
