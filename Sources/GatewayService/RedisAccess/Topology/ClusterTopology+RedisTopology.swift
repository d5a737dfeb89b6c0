import ConnectionPool
import RedisClient

/// A Redis Cluster: one pool per primary. A request whose keys all hash to one slot may take a
/// shared lease on that slot's primary; the others are planned and sent per node by
/// `ClusterDispatch`, which follows `MOVED`/`ASK`/`TRYAGAIN`.
extension ClusterTopology: RedisTopology {
    func sharedRoute(for commands: [RedisCommand], group: Int) -> SharedRoute? {
        guard let node = ClusterDispatch(topology: self).singleNode(for: commands), let io = node.sharedIO else { return nil }
        let address = node.address
        return SharedRoute(
            io: io[group], onResend: node.metrics.resent,
            refused: { replies in replies.contains { $0.errorMessage.map(ClusterDispatch.isClusterRefusal) ?? false } },
            onFailure: { [self] in refreshSoon("\(address) failed a shared round trip") })
    }

    func runExclusive(
        _ commands: [RedisCommand],
        _ send: (_ part: [RedisCommand], _ pool: RedisConnectionPool, _ onResend: (RedisError) -> Void)
            throws(GatewayError) -> [RedisValue]
    ) throws(GatewayError) -> [RedisValue] {
        try ClusterDispatch(topology: self).pipeline(commands) { node, share throws(GatewayError) in
            try send(share, node.pool, node.metrics.resent)
        }
    }

    func workerTimedOut(waited: Duration) -> PoolError { .timeout(waited: waited, statistics: statistics) }

    func suspectChange(_ reason: String) { refreshSoon(reason) }

    var statistics: PoolStatistics { ClusterStatistics(self).totals }
    var availability: PoolAvailability { ClusterStatistics(self).availability }
    var clusterStatistics: ClusterStatistics? { ClusterStatistics(self) }
}
