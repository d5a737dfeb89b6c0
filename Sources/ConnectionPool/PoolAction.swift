/// What the driver does after one decision of `PoolStateMachine`: every transition returns one of
/// these, and `ConnectionPool.run(_:)` carries it out after releasing the lock — in this order:
/// wake the waiters, close the connections, report the events, start the dials.
public struct PoolAction<Connection: AnyObject> {
    /// What the borrower that asked (`borrow`, `waitTimedOut`, `borrowDeadlinePassed`) does next;
    /// nil for every other transition.
    public var borrower: BorrowerStep<Connection>?
    /// Waiters to wake: each was handed a connection or a failure (`collect` gives it).
    public var wake: [PoolWaiterID] = []
    /// Connections to close, each counted under its reason.
    public var close: [(Connection, ConnectionCloseReason)] = []
    /// Dials to start, each on its own thread.
    public var dials = 0
    /// True when the dial started is the probe of a pool that is down.
    public var isProbe = false
    /// The pool was up and this failure took it down, with the failure's message.
    public var wentDown: String?
    /// The pool was down and this dial brought it back up; how long it was down.
    public var recoveredAfter: Duration?
    /// Redis stopped answering in time on a connection that is still open (a stall began).
    public var stallBegan = false
    /// A stall ended (Redis answered again); how long it lasted.
    public var stallEndedAfter: Duration?
    /// Borrows held longer than `leakDetectionThreshold`, each reported once.
    public var leaks: [LeakReport] = []
    /// When maintenance should run next (from `maintain`), or nil when it need not run early.
    public var nextMaintenance: PoolInstant?
    /// Run maintenance now rather than at its next scheduled time (the pool just went down, or a
    /// probe is due at once).
    public var wakeMaintenance = false

    /// Nothing to do.
    public init() {}

    /// Adds `other`'s work to this one's (the borrower's step stays this one's).
    mutating func merge(_ other: PoolAction) {
        wake += other.wake
        close += other.close
        dials += other.dials
        isProbe = isProbe || other.isProbe
        wentDown = wentDown ?? other.wentDown
        recoveredAfter = recoveredAfter ?? other.recoveredAfter
        stallBegan = stallBegan || other.stallBegan
        stallEndedAfter = stallEndedAfter ?? other.stallEndedAfter
        leaks += other.leaks
        wakeMaintenance = wakeMaintenance || other.wakeMaintenance
    }

    /// Only the borrower's next step.
    public init(borrower: BorrowerStep<Connection>, dials: Int = 0) {
        self.borrower = borrower
        self.dials = dials
    }
}

/// What a borrower does next.
public enum BorrowerStep<Connection: AnyObject> {
    /// Use this idle connection, health-checked first when `needsHealthCheck`.
    case use(Connection, needsHealthCheck: Bool)
    /// Wait to be woken (then `collect`), or until the deadline (then `waitTimedOut`).
    case wait(PoolWaiterID)
    /// A connection was handed over just before the deadline: use it (it needs no check).
    case take(Connection)
    /// Fail with this error.
    case fail(PoolError)
}

/// Identifies one borrow attempt while it waits in the queue.
public struct PoolWaiterID: Hashable, Sendable {
    let value: Int
}

/// What a woken waiter receives.
public enum PoolHandoff<Connection: AnyObject> {
    /// A connection, ready to use.
    case connection(Connection)
    /// The borrow fails (the pool went down or was shut down while it waited).
    case failure(PoolError)
}

/// How an attempt to open a connection failed, which decides what the pool does next.
public enum DialFailure: Sendable, Equatable {
    /// The server cannot be reached: refused, reset, unreachable, name not resolved, closed by the
    /// peer, or refused at the door (too many clients). The pool goes down and fails fast.
    case unreachable
    /// The connection was made but the server did not answer in time (a stall: a fork, a slow
    /// script, `CLIENT PAUSE`). The pool stays up; borrowers keep waiting within their deadline and
    /// the pool dials again for them.
    case stalled
}
