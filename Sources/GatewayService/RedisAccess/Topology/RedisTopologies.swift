import ConnectionPool
import Logging
import Prometheus
import RedisClient

/// Builds the topology a configuration names: a cluster for `redis+cluster://`, the master
/// Sentinels name for `redis+sentinel://`, else one node. Each pool reports to its own metrics
/// (on a cluster, one series per primary) and logs its events.
enum RedisTopologies {
    /// The topology, and the one pool when there is one (nil on a cluster).
    static func make(
        _ configuration: GatewayConfiguration, factory: RedisConnectionFactory, metrics: PoolMetrics, registry: PrometheusCollectorRegistry,
        logger: Logger, onMasterMove: @escaping @Sendable () -> Void
    ) -> (topology: any RedisTopology, pool: RedisConnectionPool?) {
        if let seeds = configuration.redis.url.cluster {
            let cluster = ClusterTopology(
                seeds: seeds, options: configuration.redis, refreshInterval: configuration.clusterRefreshInterval, logger: logger,
                makeNode: { address in
                    let nodeMetrics = PoolMetrics(poolName: address.description, registry: registry)
                    let nodePool = RedisConnectionPool(
                        configuration: configuration.pool, factory: RedisConnectionFactory(options: configuration.redis.at(address)),
                        observer: PoolEventLogging(metrics: nodeMetrics, logger: logger))
                    return ClusterNode(
                        address: address, pool: nodePool, metrics: nodeMetrics,
                        sharedIO: SharedIOPair(pool: nodePool, threads: configuration.redisSenders))
                })
            return (cluster, nil)
        }
        let pool = RedisConnectionPool(
            configuration: configuration.pool, factory: factory, observer: PoolEventLogging(metrics: metrics, logger: logger))
        let node = SingleNodeTopology(
            pool: pool, sharedIO: SharedIOPair(pool: pool, threads: configuration.redisSenders), onResend: metrics.resent)
        guard let locator = factory.locator else { return (node, pool) }
        let follower = FailoverFollower(
            locator: locator, pool: pool, logger: logger,
            onMove: {
                metrics.masterChanged()
                onMasterMove()
            })
        return (SentinelTopology(node: node, follower: follower), pool)
    }
}
