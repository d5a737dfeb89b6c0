/// The pool's limits and timings. A value type with sensible defaults.
public struct PoolConfiguration: Sendable, Equatable {
    /// At most this many connections are open (or being opened) at any time, ever.
    public var maxConnections: Int = 16
    /// The whole borrow — waiting for a slot or a dial, health check — fits in this.
    public var waitTimeout: Duration = .seconds(2)
    /// An idle connection unused for at least this long is health-checked before it is lent.
    public var healthCheckInterval: Duration = .seconds(30)
    /// Idle connections the background maintenance keeps open (and opens at start and after an outage).
    public var minIdle: Int = 2
    /// A connection older than this is closed when it comes back or while idle; nil keeps it forever.
    public var maxLifetime: Duration? = .seconds(1800)
    /// Each connection's lifetime is shortened by a random fraction up to this (0.1 = up to 10 %),
    /// so connections opened together do not all expire together.
    public var maxLifetimeJitter: Double = 0.1
    /// Idle connections beyond `minIdle` unused for this long are closed; nil never closes them.
    public var idleTimeout: Duration? = .seconds(600)
    /// At most this many dials run at once.
    public var maxConcurrentDials: Int = 2
    /// First delay before probing a pool that went down; doubled after each failed probe.
    public var reconnectBackoff: Duration = .milliseconds(100)
    /// The longest delay between probes.
    public var reconnectBackoffCap: Duration = .seconds(5)
    /// A borrow held longer than this is reported once (with its label); nil disables detection.
    public var leakDetectionThreshold: Duration? = .seconds(10)
    /// How often the background maintenance runs (it also wakes when a probe is due).
    public var maintenanceInterval: Duration = .seconds(1)

    /// At most this many connections carry shared leases of one group at once (`LeaseKind.shared`);
    /// 0 lends none for sharing (a shared borrow then waits like an exclusive one, for a connection
    /// of its own).
    public var maxSharedConnectionsPerGroup: Int = 1
    /// At most this many streams (e.g. pipelined commands) in flight on one shared connection.
    public var maxStreamsPerConnection: Int = 512

    /// False closes every connection when it comes back: a connection per borrow. This exists only
    /// to demonstrate the anti-pattern the pool replaces (see the load-test sweep); never in production.
    public var reuseConnections = true

    /// The defaults: 16 connections, 2 s borrow deadline, 30 s health-check interval, 2 kept idle,
    /// 30 min lifetime, 10 min idle timeout, 2 dials at once, probes backing off 100 ms to 5 s,
    /// leaks reported after 10 s, maintenance every second.
    public init() {}
}
