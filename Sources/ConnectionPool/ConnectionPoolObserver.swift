/// Receives the pool's timings and events, e.g. to feed metrics. Called outside the pool's lock,
/// on the borrowing thread; implementations must be cheap and thread-safe.
public protocol ConnectionPoolObserver: Sendable {
    /// A borrow ended after `waited` (queueing, connecting and health checks included).
    func borrowFinished(waited: Duration, outcome: BorrowOutcome)
    /// A connection was held by a borrower for `duration` and returned.
    func connectionReturned(after duration: Duration)
    /// A new connection opened in `duration`.
    func connectionCreated(in duration: Duration)
    /// Opening a connection failed.
    func connectFailed()
    /// A connection was closed.
    func connectionClosed(reason: ConnectionCloseReason)
}

/// An observer that ignores everything.
public struct NoPoolObserver: ConnectionPoolObserver {
    /// The no-op observer.
    public init() {}
    public func borrowFinished(waited: Duration, outcome: BorrowOutcome) {}
    public func connectionReturned(after duration: Duration) {}
    public func connectionCreated(in duration: Duration) {}
    public func connectFailed() {}
    public func connectionClosed(reason: ConnectionCloseReason) {}
}

/// How a borrow ended.
public enum BorrowOutcome: Sendable, Equatable {
    /// With a connection.
    case succeeded
    /// The deadline passed.
    case timedOut
    /// A new connection could not be opened.
    case connectFailed
    /// The pool is shut down.
    case shutDown

    /// The outcome of a borrow that failed with `error`.
    public init(_ error: PoolError) {
        switch error {
        case .timeout: self = .timedOut
        case .connectFailed: self = .connectFailed
        case .shutDown: self = .shutDown
        }
    }
}
