import CoreUtilities

/// Why the pool could not lend a connection.
public enum PoolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The borrow deadline passed while waiting, connecting or health-checking.
    case timeout(waited: Duration, statistics: PoolStatistics)
    /// The server cannot be reached: dials fail since `downSince`, most recently with `lastError`.
    /// Raised at once (no connect timeout) while the pool is down and nothing is idle.
    case unavailable(downSince: PoolInstant, lastError: String, statistics: PoolStatistics)
    /// The pool is shut down.
    case shutDown

    public var description: String {
        switch self {
        case .timeout(let waited, let stats):
            let last = stats.lastConnectError.map { "; last connect error: \($0)" } ?? ""
            return "no connection available within \(waited) (max \(stats.maxConnections), open \(stats.open), "
                + "in use \(stats.inUse), waiting \(stats.waiting)\(last))"
        case .unavailable(let since, let message, _):
            let seconds = PoolInstant.now().duration(since: since).secondsDouble
            let rounded = (seconds * 10).rounded() / 10
            return "the server is unreachable (down for \(rounded) s): \(message)"
        case .shutDown:
            return "the connection pool is shut down"
        }
    }
}

/// The failure of `ConnectionPool.withConnection`: either the pool could not lend a connection,
/// or the borrower's own operation threw.
public enum BorrowError<OperationError: Error>: Error {
    /// No connection could be lent.
    case pool(PoolError)
    /// The operation run with the connection threw.
    case operation(OperationError)
}
