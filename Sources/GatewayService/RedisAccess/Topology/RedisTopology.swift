import ConnectionPool
import RedisClient

/// Where a request's commands go, and what follows a change of the servers behind them: one
/// single node, a Sentinel-watched master, or a Redis Cluster. Each topology owns its pools (and
/// their shared-lease I/O) and its re-routing; `RedisExecutor` keeps what is common to all three:
/// the lease policy, deadlines, re-sends, replica confirmation, errors.
protocol RedisTopology: Sendable {
    /// The shared-lease I/O for `commands` of lease group `group`, or nil when this topology cannot
    /// give them a shared lease (they take an exclusive one).
    func sharedRoute(for commands: [RedisCommand], group: Int) -> SharedRoute?

    /// Runs `commands` with exclusive leases: `send` once per part, on the pool the part goes to
    /// (one part on a single node; one per node on a cluster, following redirects), and the replies
    /// in the commands' order.
    func runExclusive(
        _ commands: [RedisCommand],
        _ send: (_ part: [RedisCommand], _ pool: RedisConnectionPool, _ onResend: (RedisError) -> Void)
            throws(GatewayError) -> [RedisValue]
    ) throws(GatewayError) -> [RedisValue]

    /// A request waited for a worker thread past its deadline: counted as a wait timeout where
    /// the topology can (one pool), and the error it answers.
    func workerTimedOut(waited: Duration) -> PoolError

    /// A request saw what a change of servers causes (`READONLY`, a broken connection): look again.
    func suspectChange(_ reason: String)

    /// The gauges and counters of its pools now (a cluster's primaries added together).
    var statistics: PoolStatistics { get }
    /// Up, or down since when and why.
    var availability: PoolAvailability { get }
    /// A cluster's per-node pools; nil for a single node.
    var clusterStatistics: ClusterStatistics? { get }

    /// Starts following changes (Sentinel's announcements, the cluster's slot map).
    func start()
    /// Stops following changes, ends the shared-lease I/O and shuts the pools.
    func stop()
}

/// Where a shared lease goes: the I/O of one pool's lease group.
struct SharedRoute: Sendable {
    let io: SharedConnectionIO
    /// Told of each re-send (that pool's metrics).
    let onResend: @Sendable (RedisError) -> Void
    /// When set, replies that refuse the request for where it was sent (a cluster's `MOVED`,
    /// `ASK`, `TRYAGAIN`, `CLUSTERDOWN`) make it run again with an exclusive lease, which follows
    /// them; true for such replies.
    let refused: (@Sendable ([RedisValue]) -> Bool)?
    /// Told when the round trip failed (a cluster refreshes its map).
    let onFailure: @Sendable () -> Void
}
