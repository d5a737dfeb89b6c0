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
        var conditions: [Machine.WaiterID: ConditionLock<State>.Condition] = [:]
        var maintenanceWanted = false
    }

    /// The limits and timings this pool was created with.
    public let configuration: PoolConfiguration
    private let factory: Factory
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
    /// reusable afterwards is closed and discarded.
    public func withConnection<Result, Failure: Error>(
        label: String = "",
        _ body: (Connection) throws(Failure) -> Result
    ) throws(BorrowError<Failure>) -> Result {
        let connection: Connection
        do {
            connection = try borrow(label: label)
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
        let closing = lock.withLock { state in
            state.maintenanceWanted = true
            return state.machine.invalidateAll(now: .now())
        }
        maintenanceSignal.signal()
        for connection in closing {
            connection.close()
            observer.connectionClosed(reason: .invalidated)
        }
    }

    /// Closes the idle connections, fails every waiting and later borrow with `.shutDown` and
    /// stops the maintenance thread.
    public func shutDown() {
        let (closing, conditions) = lock.withLock { state in
            let (closing, woken) = state.machine.shutDown()
            return (closing, woken.compactMap { state.conditions[$0] })
        }
        conditions.forEach { $0.signal() }
        maintenanceSignal.signal()
        for connection in closing {
            connection.close()
            observer.connectionClosed(reason: .shutdown)
        }
    }

    // MARK: Borrowing

    private func borrow(label: String) throws(PoolError) -> Connection {
        let start = PoolInstant.now()
        do {
            let connection = try acquire(label: label, deadline: start.advanced(by: configuration.waitTimeout))
            observer.borrowFinished(waited: PoolInstant.now().duration(since: start), outcome: .succeeded)
            return connection
        } catch {
            observer.borrowFinished(waited: PoolInstant.now().duration(since: start), outcome: BorrowOutcome(error))
            throw error
        }
    }

    private func acquire(label: String, deadline: PoolInstant) throws(PoolError) -> Connection {
        while true {
            let (action, condition) = lock.withLock { state in
                let action = state.machine.borrow(now: .now(), label: label)
                guard case .wait(let waiter, _) = action else { return (action, nil as ConditionLock<State>.Condition?) }
                // Registered in the same critical section, so no handoff can miss this waiter.
                let condition = lock.makeCondition()
                state.conditions[waiter] = condition
                return (action, condition)
            }
            switch action {
            case .use(let connection, let needsHealthCheck):
                if !needsHealthCheck || passesHealthCheck(connection, deadline: deadline) { return connection }
            case .wait(let waiter, let dials):
                startDials(dials)
                return try wait(as: waiter, on: condition!, deadline: deadline)
            case .fail(let error):
                throw error
            }
        }
    }

    private func wait(
        as waiter: Machine.WaiterID, on condition: ConditionLock<State>.Condition, deadline: PoolInstant
    ) throws(PoolError) -> Connection {
        let outcome: Machine.Handoff = lock.wait(
            on: condition,
            until: deadline,
            poll: { state in
                guard let handoff = state.machine.collect(waiter) else { return nil }
                state.conditions[waiter] = nil
                return handoff
            },
            timedOut: { state in
                state.conditions[waiter] = nil
                switch state.machine.waitTimedOut(waiter) {
                case .take(let handoff): return handoff
                case .fail(let error): return .failure(error)
                }
            }
        )
        switch outcome {
        case .connection(let connection): return connection
        case .failure(let error): throw error
        }
    }

    /// Health-checks an idle connection within what is left of the deadline; a failed one is closed.
    private func passesHealthCheck(_ connection: Connection, deadline: PoolInstant) -> Bool {
        let remaining = deadline.duration(since: .now())
        if remaining > .zero, connection.checkHealth(timeout: remaining) {
            lock.withLock { $0.machine.healthCheckPassed() }
            return true
        }
        lock.withLock { $0.machine.healthCheckFailed(connection, now: .now()) }
        connection.close()
        observer.connectionClosed(reason: .healthCheckFailed)
        return false
    }

    // MARK: Dialling

    private func startDials(_ count: Int) {
        for _ in 0..<count {
            PoolThread.start(name: "pool-dial") { [self] in dialUntilSatisfied() }
        }
    }

    /// Dials, hands the result to the state machine, and dials again while it asks for more.
    private func dialUntilSatisfied() {
        var again = true
        while again {
            let start = PoolInstant.now()
            let dialled: Swift.Result<Connection, any Error>
            do {
                dialled = .success(try factory.makeConnection())
            } catch {
                dialled = .failure(error)
            }
            let now = PoolInstant.now()
            let jitter = Double.random(in: 0..<1)
            let (action, conditions) = lock.withLock { state in
                let action: Machine.DialAction
                switch dialled {
                case .success(let connection): action = state.machine.dialSucceeded(connection, now: now, jitter: jitter)
                case .failure(let error):
                    action = state.machine.dialFailed(message: String(describing: error), now: now, jitter: jitter)
                }
                if action.wentDown { state.maintenanceWanted = true }
                return (action, action.wake.compactMap { state.conditions[$0] })
            }
            conditions.forEach { $0.signal() }
            switch dialled {
            case .success: observer.connectionCreated(in: now.duration(since: start))
            case .failure(let error): observer.connectFailed(message: String(describing: error))
            }
            if action.wentDown {
                maintenanceSignal.signal()
                if case .failure(let error) = dialled { observer.poolWentDown(error: String(describing: error)) }
            }
            if let downtime = action.recoveredAfter { observer.poolRecovered(after: downtime) }
            if let connection = action.close {
                connection.close()
                observer.connectionClosed(reason: .shutdown)
            }
            again = action.dialAgain
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
        let (action, isShutDown) = lock.withLock { state in
            (state.machine.maintain(now: .now()), state.machine.isShutDown)
        }
        if isShutDown { return nil }
        for (connection, reason) in action.close {
            connection.close()
            observer.connectionClosed(reason: reason)
        }
        action.leaks.forEach(observer.leakDetected)
        startDials(action.dials)
        return action.nextRun
    }

    // MARK: Returning

    private func giveBack(_ connection: Connection, borrowedAt: PoolInstant) {
        let healthy = connection.isReusable
        let reusable = healthy && configuration.reuseConnections
        let reason: ConnectionCloseReason = healthy ? .notReused : .broken
        let now = PoolInstant.now()
        let (action, condition) = lock.withLock { state in
            let action = state.machine.release(connection, reusable: reusable, now: now, closeReason: reason)
            return (action, action.wake.flatMap { state.conditions[$0] })
        }
        condition?.signal()
        observer.connectionReturned(after: now.duration(since: borrowedAt))
        if let (closing, closeReason) = action.close {
            closing.close()
            observer.connectionClosed(reason: closeReason)
        }
        startDials(action.dials)
    }
}
