import RedisClient

/// One cluster node the gateway talks to: its address, its own bounded pool, and that pool's metrics.
struct ClusterNode: Sendable {
    /// Where the node listens (also its pool's name in stats and metrics).
    let address: ServerAddress
    /// The node's pool, of the same type and settings as a single Redis' pool.
    let pool: RedisConnectionPool
    /// The pool's metrics (series labelled with the node).
    let metrics: PoolMetrics
}
