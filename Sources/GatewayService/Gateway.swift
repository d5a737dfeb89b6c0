public import ConnectionPool
public import HTTPServer
public import Logging
public import RedisClient

/// The running service: one shared Redis connection pool, the routes, and the HTTP server.
///
/// Lifecycle: serving once `init` returns; `shutdown()` stops accepting, lets requests in flight
/// finish (up to `shutdownGrace`), then closes the server and the pool.
/// Threading: all members may be used from any thread.
public final class Gateway: Sendable {
    /// The configuration the gateway runs with.
    public let configuration: GatewayConfiguration
    /// The shared Redis connection pool.
    public let pool: RedisConnectionPool
    private let server: HTTPServer
    private let logger: Logger

    /// Builds the pool and routes and starts listening.
    public init(configuration: GatewayConfiguration, logger: Logger) throws(HTTPServerError) {
        self.configuration = configuration
        self.logger = logger
        let metrics = PoolMetrics(poolName: configuration.redis.url.poolName)
        let pool = RedisConnectionPool(
            configuration: configuration.pool,
            factory: RedisConnectionFactory(options: configuration.redis),
            observer: metrics
        )
        self.pool = pool
        let redis = RedisAccess(pool: pool)
        let syncToken = SyncToken()
        var policy = configuration.commandPolicy
        policy.blockingLimit = configuration.redis.socketTimeout
        let authenticator = Authenticator(configuration: configuration.auth)
        if !authenticator.isEnabled {
            logger.warning("AUTHENTICATION IS OFF: no tokens configured (GATEWAY_TOKENS); anyone who reaches this port can run commands")
        }
        let router = GatewayRoutes(
            cache: CacheHandlers(redis: redis, maxKeyBytes: configuration.maxKeyBytes),
            health: HealthHandlers(redis: redis),
            pool: PoolHandlers(redis: redis, rendering: PoolStatsRendering(metrics: metrics)),
            commands: CommandHandlers(redis: redis, policy: policy, limits: configuration.commandLimits, syncToken: syncToken),
            authenticator: authenticator,
            protectMetrics: configuration.auth.protectMetrics,
            syncToken: syncToken,
            retryAfterSeconds: configuration.retryAfterSeconds
        ).makeRouter()
        let logging = RequestLogging(logger: logger)
        var http = configuration.http
        // Room for a fully percent-encoded key of the longest allowed size, plus headers.
        http.connectionMemoryBytes = max(http.connectionMemoryBytes, 3 * configuration.maxKeyBytes + 8 * 1024)
        server = try HTTPServer(configuration: http) { request in
            var response = logging.handle(request, with: router.respond(to:))
            response.headers.append(("upstash-sync-token", syncToken.current))
            return response
        }
    }

    /// The port the gateway listens on.
    public var port: Int { server.port }

    /// Stops accepting, drains requests in flight, then closes the server and the pool.
    public func shutdown() {
        logger.info("draining", metadata: ["in-flight": "\(server.requestsInFlight)"])
        server.shutdown(grace: configuration.shutdownGrace)
        pool.shutDown()
        logger.info("stopped")
    }
}
