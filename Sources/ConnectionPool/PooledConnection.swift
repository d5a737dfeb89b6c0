/// A connection the pool can lend out: it says whether it may be lent again, can be health-checked
/// and closed.
///
/// Threading: the pool hands a connection to exactly one borrower at a time, so implementations
/// need no locking of their own; they are only ever used by the thread that holds them.
public protocol PooledConnection: AnyObject {
    /// False once the connection saw an I/O error, a timeout, a protocol error, or still has
    /// unread reply bytes: such a connection is closed and discarded, never lent again.
    var isReusable: Bool { get }

    /// True when the last failure on this connection was a timeout with the connection still open:
    /// the server is slow (stalled), not gone.
    var failedByTimeout: Bool { get }

    /// True when what ran on the connection may have changed its state for the next borrower (it is
    /// then not `isReusable`, and counted as closed for `stateChanged`).
    var changedState: Bool { get }

    /// Checks the connection end to end (e.g. PING) within `timeout`; false when it failed.
    func checkHealth(timeout: Duration) -> Bool

    /// Closes the connection; it is not used again.
    func close()
}

extension PooledConnection {
    /// Connections that carry no per-borrower state never change it.
    public var changedState: Bool { false }
}

/// Opens new connections for a pool.
///
/// Threading: called from the pool's dialling threads (at most `maxConcurrentDials` at once),
/// outside the pool's lock.
public protocol ConnectionFactory: Sendable {
    /// The kind of connection this factory opens.
    associatedtype Connection: PooledConnection

    /// Opens, authenticates and prepares one connection, within the factory's own connect timeout.
    func makeConnection() throws -> Connection

    /// How a `makeConnection()` failure is to be taken: the server unreachable, or stalled.
    func classify(_ error: any Error) -> DialFailure
}

extension ConnectionFactory {
    /// Every failure counts as the server being unreachable unless the factory says otherwise.
    public func classify(_ error: any Error) -> DialFailure { .unreachable }
}
