/// The pool's decisions, and nothing else: who gets a connection, who waits, what is discarded,
/// when to connect. Each method takes an event and returns the action the driver must carry out.
///
/// There is no lock, clock or I/O in here: the driver (`ConnectionPool`) calls it under its lock,
/// passes the time in, and performs the returned action (connect, close, wake a waiter) after
/// releasing the lock.
public struct PoolStateMachine<Connection: AnyObject> {
    /// Identifies one borrow attempt while it waits in the queue.
    public struct WaiterID: Hashable, Sendable {
        let value: Int
    }

    /// What a woken waiter receives.
    public enum Handoff {
        /// A connection, health-checked first when `needsHealthCheck`.
        case connection(Connection, needsHealthCheck: Bool)
        /// A reserved slot: the waiter opens the connection itself.
        case permitToConnect
    }

    /// What a borrower does next.
    public enum BorrowAction {
        /// Use this idle connection, health-checked first when `needsHealthCheck`.
        case use(Connection, needsHealthCheck: Bool)
        /// A slot is reserved: open a new connection.
        case connect
        /// Wait to be woken (then `collect`), or until the deadline (then `waitTimedOut`).
        case wait(WaiterID)
        /// Fail at once.
        case fail(PoolError)
    }

    /// What the driver does after a connection came back or a slot was freed.
    public enum ReleaseAction {
        /// Nothing more.
        case none
        /// Wake this waiter: a handoff is ready for it.
        case wake(WaiterID)
        /// Close this connection.
        case close(Connection)
        /// Close this connection and wake this waiter.
        case closeAndWake(Connection, WaiterID)
    }

    /// What a waiter whose deadline passed does.
    public enum TimeoutAction {
        /// Fail with this error (the waiter has left the queue).
        case fail(PoolError)
        /// A handoff arrived just in time: take it.
        case take(Handoff)
    }

    private struct IdleConnection {
        let connection: Connection
        let returnedAt: PoolInstant
    }

    private let configuration: PoolConfiguration
    private var idle: [IdleConnection] = []
    private var open = 0
    private var leased = 0
    private var waiters: [WaiterID] = []
    private var waiterHead = 0
    private var handoffs: [WaiterID: Handoff] = [:]
    private var nextWaiter = 0
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
        stats.inUse = leased
        stats.connecting = open - idle.count - leased
        stats.waiting = waiters.count - waiterHead
        return stats
    }

    // MARK: Borrowing

    /// A borrower asks for a connection at `now`: reuse the most recently returned idle one
    /// (LIFO), open a new one if below the maximum, or queue (FIFO).
    public mutating func borrow(now: PoolInstant) -> BorrowAction {
        if isShutDown { return .fail(.shutDown) }
        if waiters.count == waiterHead, let entry = idle.popLast() {
            leased += 1
            let due = now.duration(since: entry.returnedAt) >= configuration.healthCheckInterval
            if !due { counters.borrows += 1 }
            return .use(entry.connection, needsHealthCheck: due)
        }
        if waiters.count == waiterHead, open < configuration.maxConnections {
            open += 1
            return .connect
        }
        let id = WaiterID(value: nextWaiter)
        nextWaiter += 1
        waiters.append(id)
        return .wait(id)
    }

    /// A connection opened for a reserved slot (after `.connect` or `.permitToConnect`).
    public mutating func connectSucceeded() {
        leased += 1
        counters.connects += 1
        counters.borrows += 1
    }

    /// Opening a connection for a reserved slot failed: the slot passes to the first waiter.
    public mutating func connectFailed(message: String) -> ReleaseAction {
        counters.connectFailures += 1
        counters.lastConnectError = message
        return freeSlot(closing: nil)
    }

    /// A borrower's deadline passed before it could open a connection for its reserved slot:
    /// the slot passes on and the borrow fails with a timeout.
    public mutating func connectAbandoned() -> (ReleaseAction, PoolError) {
        counters.waitTimeouts += 1
        let action = freeSlot(closing: nil)
        return (action, .timeout(waited: configuration.waitTimeout, statistics: statistics))
    }

    /// A woken waiter takes what was handed to it; nil on a spurious wake-up.
    public mutating func collect(_ waiter: WaiterID) -> Handoff? {
        handoffs.removeValue(forKey: waiter)
    }

    /// A waiter's deadline passed: it leaves the queue and fails, unless a handoff beat it.
    public mutating func waitTimedOut(_ waiter: WaiterID) -> TimeoutAction {
        if let handoff = handoffs.removeValue(forKey: waiter) { return .take(handoff) }
        if let index = waiters[waiterHead...].firstIndex(of: waiter) {
            waiters.remove(at: index)
            compactWaiters()
        }
        counters.waitTimeouts += 1
        return .fail(.timeout(waited: configuration.waitTimeout, statistics: statistics))
    }

    // MARK: Health checks

    /// A connection lent with `needsHealthCheck` passed its check: the borrow is complete.
    public mutating func healthCheckPassed() {
        counters.borrows += 1
    }

    /// A lent connection failed its health check: it is closed and the borrower keeps the slot
    /// to open a replacement.
    public mutating func healthCheckFailed() {
        leased -= 1
        counters.healthCheckFailures += 1
        counters.closed[.healthCheckFailed, default: 0] += 1
    }

    // MARK: Returning

    /// A borrower returns `connection`. A reusable one goes to the first waiter or back on the
    /// idle stack; any other is closed (counted under `closeReason`) and its slot passes to the
    /// first waiter.
    public mutating func release(
        _ connection: Connection, reusable: Bool, now: PoolInstant, closeReason: ConnectionCloseReason = .broken
    ) -> ReleaseAction {
        leased -= 1
        guard reusable, !isShutDown else {
            counters.closed[isShutDown && reusable ? .shutdown : closeReason, default: 0] += 1
            return freeSlot(closing: connection)
        }
        if let waiter = popWaiter() {
            leased += 1
            counters.borrows += 1
            handoffs[waiter] = .connection(connection, needsHealthCheck: false)
            return .wake(waiter)
        }
        idle.append(IdleConnection(connection: connection, returnedAt: now))
        return .none
    }

    // MARK: Shutting down

    /// Shuts the pool: returns the idle connections to close and the waiters to wake (they fail).
    public mutating func shutDown() -> (close: [Connection], wake: [WaiterID]) {
        isShutDown = true
        let closing = idle.map(\.connection)
        counters.closed[.shutdown, default: 0] += closing.count
        open -= closing.count
        idle.removeAll()
        let woken = Array(waiters[waiterHead...])
        waiters.removeAll()
        waiterHead = 0
        return (closing, woken)
    }

    // MARK: Private

    private mutating func freeSlot(closing connection: Connection?) -> ReleaseAction {
        if !isShutDown, let waiter = popWaiter() {
            handoffs[waiter] = .permitToConnect
            if let connection { return .closeAndWake(connection, waiter) }
            return .wake(waiter)
        }
        open -= 1
        if let connection { return .close(connection) }
        return .none
    }

    private mutating func popWaiter() -> WaiterID? {
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
