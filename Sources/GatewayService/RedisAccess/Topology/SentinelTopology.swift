import ConnectionPool
import RedisClient

/// The master Sentinels name: one node whose address changes. `FailoverFollower` follows
/// `+switch-master` and asks the Sentinels again when a request saw `READONLY` or a broken
/// connection; a move invalidates the node's pool.
struct SentinelTopology: RedisTopology {
    let node: SingleNodeTopology
    let follower: FailoverFollower

    func sharedRoute(for commands: [RedisCommand], group: Int) -> SharedRoute? {
        node.sharedRoute(for: commands, group: group)
    }

    func runExclusive(
        _ commands: [RedisCommand],
        _ send: (_ part: [RedisCommand], _ pool: RedisConnectionPool, _ onResend: (RedisError) -> Void)
            throws(GatewayError) -> [RedisValue]
    ) throws(GatewayError) -> [RedisValue] {
        try node.runExclusive(commands, send)
    }

    func workerTimedOut(waited: Duration) -> PoolError { node.workerTimedOut(waited: waited) }

    func suspectChange(_ reason: String) { follower.suspect(reason) }

    var statistics: PoolStatistics { node.statistics }
    var availability: PoolAvailability { node.availability }
    var clusterStatistics: ClusterStatistics? { nil }

    func start() { follower.start() }

    func stop() {
        follower.stop()
        node.stop()
    }
}
