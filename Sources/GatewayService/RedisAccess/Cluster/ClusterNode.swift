import RedisClient

/// One cluster node the gateway talks to: its address, its own bounded pool, that pool's metrics,
/// and its shared-lease I/O (single-slot requests share round trips per node, as on one Redis).
struct ClusterNode: Sendable {
    /// Where the node listens (also its pool's name in stats and metrics).
    let address: ServerAddress
    /// The node's pool, of the same type and settings as a single Redis' pool.
    let pool: RedisConnectionPool
    /// The pool's metrics (series labelled with the node).
    let metrics: PoolMetrics
    /// The I/O of shared leases on `pool`, reads and writes apart; nil when turned off.
    let sharedIO: SharedIOPair?
}
