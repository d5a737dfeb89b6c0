/// The pool's limits and timings. A value type with sensible defaults.
public struct PoolConfiguration: Sendable, Equatable {
    /// At most this many connections are open (or being opened) at any time, ever.
    public var maxConnections: Int = 16
    /// The whole borrow — waiting for a slot, connecting, health check — fits in this.
    public var waitTimeout: Duration = .seconds(2)
    /// An idle connection unused for at least this long is health-checked before it is lent.
    public var healthCheckInterval: Duration = .seconds(30)

    /// False closes every connection when it comes back: a connection per borrow. This exists only
    /// to demonstrate the anti-pattern the pool replaces (see the load-test sweep); never in production.
    public var reuseConnections = true

    /// The defaults: 16 connections, 2 s borrow deadline, 30 s health-check interval.
    public init() {}
}
