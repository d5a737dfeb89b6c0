/// A snapshot of the pool's gauges and counters, taken under the pool's lock in O(1).
public struct PoolStatistics: Sendable, Equatable {
    /// The configured maximum of open connections.
    public var maxConnections: Int = 0
    /// Connections open now, including those being opened.
    public var open: Int = 0
    /// Open connections waiting in the pool to be lent.
    public var idle: Int = 0
    /// Connections lent now: each to one exclusive lease, or carrying shared leases (including
    /// those being health-checked).
    public var inUse: Int = 0
    /// Leases held now, exclusive and shared: the requests using Redis at this moment.
    public var leasesInUse: Int = 0
    /// Connections carrying shared leases now (counted in `inUse` too).
    public var sharedConnections: Int = 0
    /// Connections being dialled now.
    public var connecting: Int = 0
    /// Borrowers queued for a connection now.
    public var waiting: Int = 0
    /// Leases granted, exclusive and shared (one per request that reached Redis).
    public var borrows: Int = 0
    /// Borrows that gave up because the deadline passed.
    public var waitTimeouts: Int = 0
    /// Connections opened successfully.
    public var connects: Int = 0
    /// Attempts to open a connection that failed.
    public var connectFailures: Int = 0
    /// Connections closed, by reason.
    public var closed: [ConnectionCloseReason: Int] = [:]
    /// Health checks that failed (each one replaced by a fresh connection).
    public var healthCheckFailures: Int = 0
    /// The message of the most recent failed connect, if any.
    public var lastConnectError: String?
    /// Up, or down since when and why.
    public var availability = PoolAvailability.up
    /// Times the pool went down (a dial failed while it was up).
    public var outages: Int = 0
    /// Times a successful dial brought a down pool back up.
    public var recoveries: Int = 0
    /// Background probes started while the pool was down.
    public var probes: Int = 0
    /// Borrows failed at once because the pool was down and nothing was idle.
    public var fastFailures: Int = 0
    /// Borrows held longer than the leak-detection threshold.
    public var leaksDetected: Int = 0
    /// Seconds the pool spent down, over the outages that ended.
    public var outageSeconds: Double = 0
    /// Times Redis stopped answering in time on open connections (a stall, not an outage).
    public var stalls: Int = 0
    /// Seconds spent stalled, over the stalls that ended.
    public var stallSeconds: Double = 0
    /// Since when Redis has not answered in time; nil when no stall is under way.
    public var stalledSince: PoolInstant?

    /// Connections discarded because they came back broken or timed out.
    public var discarded: Int { closed[.broken, default: 0] + closed[.timedOut, default: 0] }

    /// An all-zero snapshot.
    public init() {}
}
