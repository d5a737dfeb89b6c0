import ArgumentParser
import Foundation
import GatewayService
import HTTPServer
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// `redis-gateway`: reads flags (falling back to environment variables), starts the gateway, and
/// on SIGINT/SIGTERM drains and stops.
@main
struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-gateway",
        abstract: "Redis behind plain HTTP, through one shared, bounded connection pool.",
        discussion: "Every option falls back to the environment variable named in its help, then to its default."
    )

    @Option(
        help:
            "Redis URL redis://[user:password@]host:port/db or redis+sentinel://[user:password@]h1:26379,h2:26379/master-name/db (env REDIS_URL; default redis://127.0.0.1:6379/0)"
    )
    var redisURL: String?
    @Option(help: "Address to listen on (env GATEWAY_HOST; default 127.0.0.1)")
    var host: String?
    @Option(help: "Port to listen on, 0 for any (env GATEWAY_PORT; default 8080)")
    var port: String?
    @Option(help: "HTTP worker threads, 0 for a thread per connection (env GATEWAY_THREADS; default 8)")
    var threads: String?
    @Option(help: "Most client connections at once (env GATEWAY_CONNECTION_LIMIT; default 1024)")
    var connectionLimit: String?
    @Option(help: "Most client connections from one address, 0 for no limit (env GATEWAY_PER_ADDRESS_CONNECTION_LIMIT; default 0)")
    var perAddressConnectionLimit: String?
    @Option(help: "Close client connections idle this long, s (env GATEWAY_CONNECTION_TIMEOUT_S; default 30)")
    var connectionTimeoutS: String?
    @Option(help: "Most Redis connections, ever (env GATEWAY_MAX_CONNECTIONS; default 16)")
    var maxConnections: String?
    @Option(help: "Deadline for a whole borrow, ms (env GATEWAY_WAIT_TIMEOUT_MS; default 2000)")
    var waitTimeoutMs: String?
    @Option(help: "Redis connect timeout, ms (env GATEWAY_CONNECT_TIMEOUT_MS; default 1000)")
    var connectTimeoutMs: String?
    @Option(help: "Redis read/write timeout, ms (env GATEWAY_SOCKET_TIMEOUT_MS; default 1000)")
    var socketTimeoutMs: String?
    @Option(help: "PING idle connections older than this, ms (env GATEWAY_HEALTH_CHECK_INTERVAL_MS; default 30000)")
    var healthCheckIntervalMs: String?
    @Option(help: "Idle Redis connections kept open, warmed at start and after an outage (env GATEWAY_MIN_IDLE; default 2)")
    var minIdle: String?
    @Option(help: "Recycle Redis connections older than this (±10 % jitter), s, 0 for never (env GATEWAY_MAX_LIFETIME_S; default 1800)")
    var maxLifetimeS: String?
    @Option(help: "Close idle connections beyond min-idle after this, s, 0 for never (env GATEWAY_IDLE_TIMEOUT_S; default 600)")
    var idleTimeoutS: String?
    @Option(help: "Most Redis connects in flight at once (env GATEWAY_MAX_CONCURRENT_DIALS; default 2)")
    var maxConcurrentDials: String?
    @Option(help: "First delay between reconnect probes while Redis is down, ms (env GATEWAY_RECONNECT_BACKOFF_MS; default 100)")
    var reconnectBackoffMs: String?
    @Option(help: "Longest delay between reconnect probes, ms (env GATEWAY_RECONNECT_BACKOFF_CAP_MS; default 5000)")
    var reconnectBackoffCapMs: String?
    @Option(help: "Log a connection held longer than this, ms, 0 for off (env GATEWAY_LEAK_DETECTION_MS; default 10000)")
    var leakDetectionMs: String?
    @Option(help: "On SIGTERM, wait this long for requests in flight, ms (env GATEWAY_SHUTDOWN_GRACE_MS; default 10000)")
    var shutdownGraceMs: String?
    @Option(help: "Re-sends of a failed request that is safe to re-send, 0 for none (env GATEWAY_RETRY_ATTEMPTS; default 2)")
    var retryAttempts: String?
    @Option(help: "Wait before the first re-send, doubling, ms (env GATEWAY_RETRY_BACKOFF_MS; default 5)")
    var retryBackoffMs: String?
    @Option(help: "Also re-send read-only requests after a socket timeout: 1 or 0 (env GATEWAY_RETRY_AFTER_TIMEOUT; default 0)")
    var retryAfterTimeout: String?
    @Option(help: "Treat SET without NX/XX/GET as safe to re-send: 1 or 0 (env GATEWAY_RETRY_UNCONDITIONAL_SET; default 0)")
    var retryUnconditionalSet: String?
    @Option(
        help: "Replicas that must confirm each write (WAIT) before it is acknowledged, 0 for none (env GATEWAY_MIN_REPLICA_ACKS; default 0)"
    )
    var minReplicaAcks: String?
    @Option(help: "How long a write waits for replica confirmations, ms (env GATEWAY_REPLICA_ACK_TIMEOUT_MS; default 100)")
    var replicaAckTimeoutMs: String?
    @Option(help: "Largest request body, bytes (env GATEWAY_MAX_BODY_BYTES; default 10485760)")
    var maxBodyBytes: String?
    @Option(help: "Longest key, bytes (env GATEWAY_MAX_KEY_BYTES; default 1024)")
    var maxKeyBytes: String?
    @Option(help: "CLIENT SETNAME for pooled connections, empty for none (env GATEWAY_CLIENT_NAME; default redis-gateway)")
    var clientName: String?
    @Option(help: "Full-access API tokens, comma-separated; prefer the env or a file (env GATEWAY_TOKENS; default none: auth off)")
    var tokens: String?
    @Option(help: "Read-only API tokens, comma-separated (env GATEWAY_READONLY_TOKENS)")
    var readonlyTokens: String?
    @Option(help: "File of tokens, one per line, 'readonly TOKEN' for read-only (env GATEWAY_TOKENS_FILE)")
    var tokensFile: String?
    @Option(help: "Require a token for /metrics, /pool/stats, /pool/health: 1 or 0 (env GATEWAY_PROTECT_METRICS; default 0)")
    var protectMetrics: String?
    @Option(help: "Commands to allow despite the default deny list, e.g. FLUSHDB (env GATEWAY_ALLOW_COMMANDS)")
    var allowCommands: String?
    @Option(help: "Commands to refuse in addition, e.g. KEYS (env GATEWAY_DENY_COMMANDS)")
    var denyCommands: String?
    @Option(help: "Allow-list mode: only these commands run (env GATEWAY_COMMAND_ALLOWLIST)")
    var commandAllowlist: String?
    @Option(help: "Most commands in one /pipeline or /multi-exec batch (env GATEWAY_MAX_BATCH_COMMANDS; default 1000)")
    var maxBatchCommands: String?
    @Option(help: "Most arguments in one command (env GATEWAY_MAX_COMMAND_ARGUMENTS; default 100000)")
    var maxCommandArguments: String?
    @Option(
        help:
            "pooled, or per-request: a new Redis connection per request, ONLY to demonstrate the anti-pattern (env GATEWAY_POOL_MODE; default pooled)"
    )
    var poolMode: String?
    @Option(help: "SQLite file of the session example's users (env GATEWAY_DATABASE_PATH; default data/users.sqlite)")
    var databasePath: String?
    @Option(help: "Demo users seeded into an empty database (env GATEWAY_SEED_USERS; default 1000)")
    var seedUsers: String?
    @Option(help: "Session lifetime, sliding, s (env GATEWAY_SESSION_TTL_S; default 1800)")
    var sessionTtl: String?
    @Option(help: "User data cache lifetime, s (env GATEWAY_USER_CACHE_TTL_S; default 3600)")
    var userCacheTtl: String?
    @Option(help: "Lifetime of a cached absence, s (env GATEWAY_NEGATIVE_CACHE_TTL_S; default 30)")
    var negativeCacheTtl: String?
    @Option(help: "Mark the session cookie Secure: 1 or 0 (env GATEWAY_COOKIE_SECURE; default 0)")
    var cookieSecure: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (env GATEWAY_LOG_LEVEL; default info)")
    var logLevel: String?

    func run() throws {
        var environment = ProcessInfo.processInfo.environment
        let flags: [(GatewayConfiguration.Key, String?)] = [
            (.redisURL, redisURL), (.host, host), (.port, port), (.threads, threads),
            (.connectionLimit, connectionLimit), (.perAddressConnectionLimit, perAddressConnectionLimit),
            (.connectionTimeoutSeconds, connectionTimeoutS), (.maxConnections, maxConnections),
            (.waitTimeoutMilliseconds, waitTimeoutMs), (.connectTimeoutMilliseconds, connectTimeoutMs),
            (.socketTimeoutMilliseconds, socketTimeoutMs), (.healthCheckIntervalMilliseconds, healthCheckIntervalMs),
            (.minIdle, minIdle), (.maxLifetimeSeconds, maxLifetimeS), (.idleTimeoutSeconds, idleTimeoutS),
            (.maxConcurrentDials, maxConcurrentDials), (.reconnectBackoffMilliseconds, reconnectBackoffMs),
            (.reconnectBackoffCapMilliseconds, reconnectBackoffCapMs), (.leakDetectionMilliseconds, leakDetectionMs),
            (.shutdownGraceMilliseconds, shutdownGraceMs), (.retryAttempts, retryAttempts),
            (.retryBackoffMilliseconds, retryBackoffMs), (.retryAfterTimeout, retryAfterTimeout),
            (.retryUnconditionalSet, retryUnconditionalSet), (.minReplicaAcks, minReplicaAcks),
            (.replicaAckTimeoutMilliseconds, replicaAckTimeoutMs),
            (.maxBodyBytes, maxBodyBytes), (.maxKeyBytes, maxKeyBytes), (.clientName, clientName),
            (.tokens, tokens), (.readOnlyTokens, readonlyTokens), (.tokensFile, tokensFile),
            (.protectMetrics, protectMetrics), (.allowCommands, allowCommands), (.denyCommands, denyCommands),
            (.commandAllowList, commandAllowlist), (.maxBatchCommands, maxBatchCommands),
            (.maxCommandArguments, maxCommandArguments), (.poolMode, poolMode),
            (.databasePath, databasePath), (.seedUsers, seedUsers), (.sessionTTL, sessionTtl),
            (.userCacheTTL, userCacheTtl), (.negativeCacheTTL, negativeCacheTtl), (.secureCookie, cookieSecure),
        ]
        for case (let key, let value?) in flags { environment[key.rawValue] = value }

        let levelText = logLevel ?? environment["GATEWAY_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw ValidationError("log level must be one of \(Logger.Level.allCases.map(\.rawValue))")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "redis-gateway")

        let configuration: GatewayConfiguration
        do {
            configuration = try GatewayConfiguration(environment: environment)
        } catch {
            throw ValidationError(error.description)
        }

        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])  // before any thread starts
        let gateway = try Gateway(configuration: configuration, logger: logger)
        for line in configuration.summary { logger.info("\(line)") }
        logger.info("listening", metadata: ["address": "\(configuration.http.host):\(gateway.port)"])
        let received = signals.wait()
        logger.info("received signal \(received), shutting down")
        gateway.shutdown()
    }
}
