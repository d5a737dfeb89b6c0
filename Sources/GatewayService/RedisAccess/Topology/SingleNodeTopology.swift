import ConnectionPool
import RedisClient

/// One Redis: one pool, its shared-lease I/O (nil with `GATEWAY_REDIS_SENDERS=0`).
struct SingleNodeTopology: RedisTopology {
    let pool: RedisConnectionPool
    let sharedIO: SharedIOPair?
    let onResend: @Sendable (RedisError) -> Void

    func sharedRoute(for commands: [RedisCommand], group: Int) -> SharedRoute? {
        sharedIO.map { SharedRoute(io: $0[group], onResend: onResend, refused: nil, onFailure: {}) }
    }

    func runExclusive(
        _ commands: [RedisCommand],
        _ send: (_ part: [RedisCommand], _ pool: RedisConnectionPool, _ onResend: (RedisError) -> Void)
            throws(GatewayError) -> [RedisValue]
    ) throws(GatewayError) -> [RedisValue] {
        try send(commands, pool, onResend)
    }

    func workerTimedOut(waited: Duration) -> PoolError { pool.waitTimedOutBeforeBorrowing(waited: waited) }

    func suspectChange(_ reason: String) {}

    var statistics: PoolStatistics { pool.statistics }
    var availability: PoolAvailability { pool.availability }
    var clusterStatistics: ClusterStatistics? { nil }

    func start() {}

    func stop() {
        sharedIO?.stop()
        pool.shutDown()
    }
}
