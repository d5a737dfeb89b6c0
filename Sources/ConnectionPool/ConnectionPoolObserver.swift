/// Receives the pool's timings and events, e.g. to feed metrics and logs. Called outside the pool's
/// lock, on the borrowing, dialling or maintenance thread; implementations must be cheap and
/// thread-safe.
public protocol ConnectionPoolObserver: Sendable {
    /// A borrow ended after `waited` (queueing and health checks included).
    func borrowFinished(waited: Duration, outcome: BorrowOutcome)
    /// A connection was held by a borrower for `duration` and returned.
    func connectionReturned(after duration: Duration)
    /// A new connection opened in `duration`.
    func connectionCreated(in duration: Duration)
    /// Opening a connection failed with `message`.
    func connectFailed(message: String)
    /// A connection was closed.
    func connectionClosed(reason: ConnectionCloseReason)
    /// A dial failed while the pool was up: it is down now, and borrows that find nothing idle fail fast.
    func poolWentDown(error: String)
    /// A dial succeeded after the pool had been down for `downtime`.
    func poolRecovered(after downtime: Duration)
    /// A borrow has been held longer than the leak-detection threshold (reported once per borrow).
    func leakDetected(_ report: LeakReport)
    /// Redis stopped answering in time on open connections: a stall, not an outage.
    func stallBegan()
    /// Redis answered again after a stall of `duration`.
    func stallEnded(after duration: Duration)
}

/// An observer that ignores everything.
public struct NoPoolObserver: ConnectionPoolObserver {
    /// The no-op observer.
    public init() {}
    public func borrowFinished(waited: Duration, outcome: BorrowOutcome) {}
    public func connectionReturned(after duration: Duration) {}
    public func connectionCreated(in duration: Duration) {}
    public func connectFailed(message: String) {}
    public func connectionClosed(reason: ConnectionCloseReason) {}
    public func poolWentDown(error: String) {}
    public func poolRecovered(after downtime: Duration) {}
    public func leakDetected(_ report: LeakReport) {}
    public func stallBegan() {}
    public func stallEnded(after duration: Duration) {}
}

/// How a borrow ended.
public enum BorrowOutcome: Sendable, Equatable {
    /// With a connection.
    case succeeded
    /// The deadline passed.
    case timedOut
    /// The pool is down: failed at once.
    case unavailable
    /// The pool is shut down.
    case shutDown

    /// The outcome of a borrow that failed with `error`.
    public init(_ error: PoolError) {
        switch error {
        case .timeout: self = .timedOut
        case .unavailable: self = .unavailable
        case .shutDown: self = .shutDown
        }
    }
}
