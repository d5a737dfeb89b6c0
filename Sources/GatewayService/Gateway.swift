public import ConnectionPool
public import HTTPServer
public import Logging
import Prometheus
public import RedisClient
import Synchronization
import UserDatabase

/// The running service: one shared Redis connection pool, the routes, and the HTTP server.
///
/// Lifecycle: serving once `init` returns; `shutdown()` stops accepting, lets requests in flight
/// finish (up to `shutdownGrace`), then closes the server and the pool.
/// Threading: all members may be used from any thread.
public final class Gateway: Sendable {
    /// The configuration the gateway runs with.
    public let configuration: GatewayConfiguration
    /// The shared Redis connection pool; nil on a cluster (one pool per primary).
    public let pool: RedisConnectionPool?
    private let server: HTTPServer
    private let logger: Logger
    private let redis: RedisExecutor
    private let drain: DrainSignal
    private let pubsub: PubSubHub
    private let stopped = Atomic<Bool>(false)

    /// Builds the pool, opens the origin database, builds the routes and starts listening.
    public init(configuration: GatewayConfiguration, logger: Logger) throws(GatewayStartError) {
        var configuration = configuration
        try Self.loadRedisTLS(&configuration, logger: logger)
        self.configuration = configuration
        self.logger = logger
        let registry = PrometheusCollectorRegistry()
        // On a cluster the pool-named totals appear in the JSON only: in Prometheus each node's pool
        // has its own series, and a total beside them would be counted twice by any sum.
        let metrics =
            configuration.redis.url.cluster == nil
            ? PoolMetrics(poolName: configuration.redis.url.poolName, registry: registry)
            : PoolMetrics(poolName: configuration.redis.url.poolName)
        let factory = RedisConnectionFactory(options: configuration.redis)
        let protection = ProtectionMetrics(registry: registry)
        // Redis' own command list, read by the first command request (on a thread that may wait),
        // and again after a failover; each read also checks what the gateway's Redis user could
        // run from a script.
        let catalog = ServerCommandCatalog()
        let pubsub = PubSubHub(
            configuration: configuration.pubsub, metrics: PubSubMetrics(registry: registry), logger: logger,
            backoff: configuration.pool.reconnectBackoff, backoffCap: configuration.pool.reconnectBackoffCap,
            connect: { try factory.makeConnection() })
        self.pubsub = pubsub
        let (topology, pool) = RedisTopologies.make(
            configuration, factory: factory, metrics: metrics, registry: registry, logger: logger,
            onMasterMove: {
                pubsub.masterMoved()
                catalog.forget()
            })
        self.pool = pool
        let redis = RedisExecutor(
            topology: topology, retry: configuration.retry, replicaAcknowledgement: configuration.replicaAcknowledgement,
            workers: RedisExecutor.workers(for: configuration.pool),
            scriptKiller: ScriptTimeoutKiller(logger: logger, onKill: protection.scriptKilled))
        self.redis = redis
        let syncToken = SyncToken()
        let drain = DrainSignal()
        self.drain = drain
        var policy = configuration.commandPolicy
        policy.blockingLimit = configuration.redis.socketTimeout
        let users: UserStore
        do {
            users = try UserStore(
                path: configuration.session.databasePath, seedUsers: configuration.session.seedUsers,
                passwordRounds: configuration.session.passwordRounds)
        } catch {
            throw .database("cannot open \(configuration.session.databasePath): \(error)")
        }
        let permissionCheck = ScriptPermissionCheck(policy: policy)
        catalog.afterEachRead { [redis, logger] names in
            let user = (try? redis.execute(RedisCommand("ACL", "WHOAMI"), label: "script-permission-check"))?.text ?? "<the gateway's user>"
            ScriptPermissionCheck.log(permissionCheck.run(names, on: redis), user: user, to: logger)
        }
        let sessionMetrics = SessionMetrics(registry: registry)
        let authenticator = Authenticator(configuration: configuration.auth)
        if !configuration.pool.reuseConnections {
            logger.warning("PER-REQUEST MODE: a new Redis connection for every request (a demonstration of the anti-pattern)")
        }
        if !authenticator.isEnabled, !LocalCaller.isLoopbackAddress(configuration.http.host), !configuration.auth.allowUnauthenticated {
            throw .insecure(
                "no tokens (GATEWAY_TOKENS) and listening on \(configuration.http.host), not loopback: anyone who reaches the port could "
                    + "run commands. Configure tokens, listen on 127.0.0.1, or set GATEWAY_ALLOW_UNAUTHENTICATED=1")
        }
        if !authenticator.isEnabled {
            logger.warning(
                "AUTHENTICATION IS OFF: no tokens configured (GATEWAY_TOKENS); only local callers (Host: a loopback name, no Origin) are served"
            )
        }
        let reserved = ReservedPrefix(configuration.session.reservedKeyPrefix)
        if configuration.session.secret == nil {
            logger.warning(
                "no GATEWAY_SESSION_SECRET: the session example seals with a random secret; its sessions end with this process, and gateways sharing this Redis do not accept each other's"
            )
        }
        let seal = SessionSeal(secret: configuration.session.secret ?? SessionSeal.randomSecret(), prefix: reserved.text)
        var commandLimits = configuration.commandLimits
        commandLimits.maxResponseBytes = 2 * configuration.redis.maxReplyBytes
        let router = GatewayRoutes(
            cache: CacheHandlers(
                redis: redis, maxKeyBytes: configuration.maxKeyBytes, maxResponseBytes: commandLimits.maxResponseBytes, reserved: reserved),
            health: HealthHandlers(redis: redis, drain: drain),
            pool: PoolHandlers(
                redis: redis,
                rendering: PoolStatsRendering(
                    registry: registry, metrics: metrics, session: sessionMetrics, pubsub: pubsub, protection: protection,
                    minIdle: configuration.pool.minIdle)),
            commands: CommandHandlers(
                redis: redis, policy: policy, limits: commandLimits, syncToken: syncToken,
                scripts: ScriptCompatibility(digests: ScriptDigests()), catalog: catalog, reserved: reserved),
            sessions: SessionHandlers(
                redis: redis, users: users, configuration: configuration.session, metrics: sessionMetrics,
                flights: SingleFlight(timeout: configuration.session.singleFlightTimeout), script: SessionScript(),
                generations: UserGenerations(), seal: seal,
                limiter: LoginLimiter(
                    perAddress: configuration.session.loginLimitPerAddress, perUser: configuration.session.loginLimitPerUser,
                    window: configuration.session.loginWindow, prefix: reserved.text)),
            subscriptions: SubscribeHandlers(hub: pubsub, policy: policy),
            redis: redis,
            authenticator: authenticator,
            protectMetrics: configuration.auth.protectMetrics,
            syncToken: syncToken,
            retryAfterSeconds: configuration.retryAfterSeconds
        ).makeRouter()
        let logging = RequestLogging(logger: logger)
        var http = configuration.http
        // Room for a fully percent-encoded key of the longest allowed size in the request line, with
        // 2 KiB for the rest of the request line, the headers an SDK sends and libmicrohttpd's own
        // use of the buffer (the response's headers are built in it too).
        http.connectionMemoryBytes = max(http.connectionMemoryBytes, 3 * configuration.maxKeyBytes + 2048)
        do throws(HTTPServerError) {
            let crossOrigin = configuration.crossOrigin
            server = try HTTPServer(configuration: http) { request, responder in
                let origin = crossOrigin.isEnabled ? request.header("origin") : nil
                let answer = logging.responder(for: request, answering: responder) { response in
                    response.headers.append(("upstash-sync-token", syncToken.current))
                    crossOrigin.decorate(&response, origin: origin)
                }
                if let preflight = crossOrigin.preflightResponse(to: request) { return answer.respond(preflight) }
                router.dispatch(request, to: answer)
            }
        } catch {
            throw .http(error)
        }
        let started = server
        protection.readHTTPCounts { (started.connectionsRefused, started.requestsTimedOut) }
        redis.start()
    }

    /// The port the gateway listens on.
    public var port: Int { server.port }

    /// With HTTPS (`GATEWAY_TLS_CERT_FILE`): re-reads the certificate and key (on SIGHUP), logging
    /// the outcome. A pair that cannot be used keeps the current one; false then.
    @discardableResult
    public func reloadCertificate() -> Bool {
        guard configuration.http.usesTLS else {
            logger.info("SIGHUP: no HTTPS certificate to reload (GATEWAY_TLS_CERT_FILE is not set)")
            return true
        }
        do {
            try server.reloadCertificate()
            logger.info("reloaded the HTTPS certificate", metadata: ["file": "\(configuration.http.tlsCertificateFile ?? "")"])
            return true
        } catch {
            logger.error("cannot reload the HTTPS certificate; still serving the previous one", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Serving, draining or refusing (during `shutdown()`).
    public var phase: HTTPServerPhase { server.phase }

    /// Stops accepting, lets requests in flight finish for up to `shutdownGrace`, then answers 503 to
    /// what still arrives, shuts the pool (waiters fail at once), and stops once the handlers still
    /// talking to Redis are done (at most the socket timeout later).
    /// Only the first call does anything.
    public func shutdown() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        logger.info("draining", metadata: ["in-flight": "\(server.requestsInFlight)"])
        drain.begin()
        // Event streams never end by themselves: each gets a final event now, so the drain is not
        // held for the whole grace period by open subscriptions.
        pubsub.shutdown()
        // Past the grace period, requests still waiting for a Redis connection fail at once (503);
        // those talking to Redis finish within the socket timeout.
        server.shutdown(grace: configuration.shutdownGrace, finalWait: configuration.redis.socketTimeout + .seconds(1)) { remaining in
            if remaining > 0 {
                logger.warning("drain deadline passed: requests still arriving get 503", metadata: ["in-flight": "\(remaining)"])
            }
            redis.shutDownPools()
        }
        redis.stop()
        logger.info("stopped")
    }
}

extension Gateway {
    /// With a `rediss` URL and no credentials loaded yet: loads `redisTLS`' files once, for every
    /// connection (a file that cannot be used stops the start, naming it), and warns when the
    /// server's certificate will not be verified.
    static func loadRedisTLS(_ configuration: inout GatewayConfiguration, logger: Logger) throws(GatewayStartError) {
        guard configuration.redis.url.usesTLS else { return }
        if configuration.redis.tls == nil {
            do {
                configuration.redis.tls = try RedisTLSCredentials(configuration.redisTLS)
            } catch {
                throw .tls("TLS to Redis: \(error.message)")
            }
        }
        if configuration.redis.tls?.settings.verify == RedisTLSSettings.Verification.none {
            logger.warning(
                "GATEWAY_REDIS_TLS_VERIFY=none: the Redis server's certificate is not checked, so anyone on the path can read and change the traffic"
            )
        }
    }
}

/// Why the gateway could not start.
public enum GatewayStartError: Error, CustomStringConvertible {
    /// The HTTP server could not listen.
    case http(HTTPServerError)
    /// The origin database could not be opened or created.
    case database(String)
    /// No tokens on an address beyond loopback, without `GATEWAY_ALLOW_UNAUTHENTICATED`.
    case insecure(String)
    /// A TLS file (CA bundle, certificate, key) could not be used.
    case tls(String)

    public var description: String {
        switch self {
        case .http(let error): error.description
        case .database(let message), .insecure(let message), .tls(let message): message
        }
    }
}
