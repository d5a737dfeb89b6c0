/// One shared, blocking, bounded pool of connections.
///
/// - At most `maxConnections` are open at any time; connections are opened lazily.
/// - A borrower that finds none idle and the pool full waits, first come first served; one
///   deadline (`waitTimeout`) covers the whole borrow: waiting, connecting, health check.
/// - Idle connections are reused last-in first-out; one idle for `healthCheckInterval` or more
///   is health-checked first, and replaced transparently if the check fails.
/// - A connection that is not `isReusable` when it comes back is closed, never lent again.
///
/// Threading: every method may be called from any thread. Decisions are taken by
/// `PoolStateMachine` under a lock; connecting, health checks and closing happen outside it.
/// Lifecycle: usable at once; `shutDown()` closes idle connections and fails every later borrow;
/// connections still lent out are closed when they come back.
public final class ConnectionPool<Factory: ConnectionFactory>: Sendable {
    /// The pooled connection type.
    public typealias Connection = Factory.Connection
    private typealias Machine = PoolStateMachine<Connection>

    private struct State {
        var machine: Machine
        var conditions: [Machine.WaiterID: ConditionLock<State>.Condition] = [:]
    }

    /// The limits and timings this pool was created with.
    public let configuration: PoolConfiguration
    private let factory: Factory
    private let observer: any ConnectionPoolObserver
    private let lock: ConditionLock<State>

    /// A pool opening connections with `factory`, reporting timings to `observer`.
    public init(
        configuration: PoolConfiguration,
        factory: Factory,
        observer: any ConnectionPoolObserver = NoPoolObserver()
    ) {
        precondition(configuration.maxConnections > 0, "maxConnections must be positive")
        self.configuration = configuration
        self.factory = factory
        self.observer = observer
        self.lock = ConditionLock(State(machine: Machine(configuration: configuration)))
    }

    /// Borrows a connection, runs `body` with it and gives it back on every path (a thrown
    /// error included). A connection that is not reusable afterwards is closed and discarded.
    public func withConnection<Result, Failure: Error>(
        _ body: (Connection) throws(Failure) -> Result
    ) throws(BorrowError<Failure>) -> Result {
        let connection: Connection
        do {
            connection = try borrow()
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

    /// Closes the idle connections and fails every waiting and later borrow with `.shutDown`.
    public func shutDown() {
        let (closing, conditions) = lock.withLock { state in
            let (closing, woken) = state.machine.shutDown()
            return (closing, woken.compactMap { state.conditions[$0] })
        }
        conditions.forEach { $0.signal() }
        for connection in closing {
            connection.close()
            observer.connectionClosed(reason: .shutdown)
        }
    }

    // MARK: Borrowing

    private func borrow() throws(PoolError) -> Connection {
        let start = PoolInstant.now()
        do {
            let connection = try acquire(deadline: start.advanced(by: configuration.waitTimeout))
            observer.borrowFinished(waited: PoolInstant.now().duration(since: start), outcome: .succeeded)
            return connection
        } catch {
            observer.borrowFinished(waited: PoolInstant.now().duration(since: start), outcome: BorrowOutcome(error))
            throw error
        }
    }

    private func acquire(deadline: PoolInstant) throws(PoolError) -> Connection {
        let (action, condition) = lock.withLock { state in
            let action = state.machine.borrow(now: .now())
            guard case .wait(let waiter) = action else { return (action, nil as ConditionLock<State>.Condition?) }
            // Registered in the same critical section, so no handoff can miss this waiter.
            let condition = lock.makeCondition()
            state.conditions[waiter] = condition
            return (action, condition)
        }
        switch action {
        case .use(let connection, let needsHealthCheck):
            return needsHealthCheck ? try healthChecked(connection, deadline: deadline) : connection
        case .connect:
            return try connect(deadline: deadline)
        case .wait(let waiter):
            return try wait(as: waiter, on: condition!, deadline: deadline)
        case .fail(let error):
            throw error
        }
    }

    private func wait(
        as waiter: Machine.WaiterID, on condition: ConditionLock<State>.Condition, deadline: PoolInstant
    ) throws(PoolError) -> Connection {
        let outcome: Swift.Result<Machine.Handoff, PoolError> = lock.wait(
            on: condition,
            until: deadline,
            poll: { state in
                if let handoff = state.machine.collect(waiter) {
                    state.conditions[waiter] = nil
                    return .success(handoff)
                }
                if state.machine.isShutDown {
                    state.conditions[waiter] = nil
                    return .failure(.shutDown)
                }
                return nil
            },
            timedOut: { state in
                state.conditions[waiter] = nil
                switch state.machine.waitTimedOut(waiter) {
                case .take(let handoff): return .success(handoff)
                case .fail(let error): return .failure(error)
                }
            }
        )
        switch try outcome.get() {
        case .connection(let connection, let needsHealthCheck):
            return needsHealthCheck ? try healthChecked(connection, deadline: deadline) : connection
        case .permitToConnect:
            return try connect(deadline: deadline)
        }
    }

    private func healthChecked(_ connection: Connection, deadline: PoolInstant) throws(PoolError) -> Connection {
        let remaining = deadline.duration(since: .now())
        if remaining > .zero, connection.checkHealth(timeout: remaining) {
            lock.withLock { $0.machine.healthCheckPassed() }
            return connection
        }
        lock.withLock { $0.machine.healthCheckFailed() }
        connection.close()
        observer.connectionClosed(reason: .healthCheckFailed)
        return try connect(deadline: deadline)
    }

    /// Opens a connection for a slot the state machine reserved for this borrower.
    private func connect(deadline: PoolInstant) throws(PoolError) -> Connection {
        let start = PoolInstant.now()
        let remaining = deadline.duration(since: start)
        guard remaining > .zero else {
            let (action, error) = lock.withLock { state in
                let (action, error) = state.machine.connectAbandoned()
                return (Wake(action, state), error)
            }
            perform(action, closeReason: .broken)
            throw error
        }
        do {
            let connection = try factory.makeConnection(timeout: remaining)
            lock.withLock { $0.machine.connectSucceeded() }
            observer.connectionCreated(in: PoolInstant.now().duration(since: start))
            return connection
        } catch {
            let message = String(describing: error)
            let (action, statistics) = lock.withLock { state in
                let action = state.machine.connectFailed(message: message)
                return (Wake(action, state), state.machine.statistics)
            }
            observer.connectFailed()
            perform(action, closeReason: .broken)
            throw .connectFailed(message: message, statistics: statistics)
        }
    }

    // MARK: Returning

    private func giveBack(_ connection: Connection, borrowedAt: PoolInstant) {
        let healthy = connection.isReusable
        let reusable = healthy && configuration.reuseConnections
        let reason: ConnectionCloseReason = healthy ? .notReused : .broken
        let now = PoolInstant.now()
        let action = lock.withLock { state in
            Wake(state.machine.release(connection, reusable: reusable, now: now, closeReason: reason), state)
        }
        observer.connectionReturned(after: now.duration(since: borrowedAt))
        perform(action, closeReason: reusable ? .shutdown : reason)
    }

    /// A release action with the condition of the waiter to wake, looked up under the lock.
    private struct Wake {
        let action: Machine.ReleaseAction
        let condition: ConditionLock<State>.Condition?

        init(_ action: Machine.ReleaseAction, _ state: State) {
            self.action = action
            switch action {
            case .wake(let waiter), .closeAndWake(_, let waiter): condition = state.conditions[waiter]
            case .none, .close: condition = nil
            }
        }
    }

    private func perform(_ wake: Wake, closeReason: ConnectionCloseReason) {
        wake.condition?.signal()
        switch wake.action {
        case .close(let connection), .closeAndWake(let connection, _):
            connection.close()
            observer.connectionClosed(reason: closeReason)
        case .none, .wake:
            break
        }
    }
}
