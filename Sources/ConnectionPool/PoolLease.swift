/// One lease granted by `ConnectionPool.lease(_:streams:label:deadline:granted:)`: the connection
/// to use, until it is given back (`ConnectionPool.giveBack(_:)`). A shared lease's connection
/// carries other leases at the same time; only their streams are this lease's.
public struct PoolLease<Connection: AnyObject>: @unchecked Sendable {
    /// The connection lent.
    public let connection: Connection
    /// The streams this lease was granted for (1 for an exclusive lease).
    public let streams: Int
    /// When it was granted (for the hold-time histogram).
    public let grantedAt: PoolInstant
}
