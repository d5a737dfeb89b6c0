import ConnectionPool
import Foundation
import HTTPServer
import Logging
import RedisClient

extension GatewayConfiguration {
    /// Every setting, in the order they are applied, listed in `--help` and in README's table.
    public static let settings: [Setting] =
        redisSettings + httpSettings + poolSettings + resilienceSettings + apiSettings
        + pubsubSettings + sessionSettings + processSettings

    /// The defaults overridden by `environment` (variable name → value), applied in table order;
    /// throws a message naming the variable for a value that does not parse or is out of range.
    public init(environment: [String: String]) throws(ConfigurationError) {
        self.init()
        for setting in Self.settings {
            guard let text = environment[setting.name] else { continue }
            try setting.apply(text, to: &self)
        }
        if !redis.url.usesTLS, redisTLS != RedisTLSSettings() {
            let name =
                Self.settings.first { $0.name.hasPrefix("GATEWAY_REDIS_TLS_") && environment[$0.name] != nil }?.name
                ?? "GATEWAY_REDIS_TLS_*"
            throw ConfigurationError(setting: name, message: "set, but REDIS_URL is not a rediss:// (TLS) URL")
        }
    }

    /// One line per setting with its value (secrets masked): printed at start-up.
    public var summary: [String] {
        Self.settings.map { "\($0.name)=\($0.summaryValue(in: self))" }
    }

    // MARK: The table

    private static let redisSettings: [Setting] = [
        Setting(
            "REDIS_URL",
            "`redis://[user:password@]host:port/db` (ACL user optional; password percent-encoded), or through Sentinels "
                + "`redis+sentinel://[user:password@]host1:26379,host2:26379/master-name/db[?sentinel_password=…&sentinel_username=…]`, "
                + "or a Redis Cluster through seed nodes `redis+cluster://[user:password@]host1:port1,host2:port2/`; "
                + "`rediss://`, `rediss+sentinel://` (Sentinels and data nodes) and `rediss+cluster://` use TLS (see TLS in README)",
            current: { $0.redis.url.description },
            apply: { configuration, text in
                do {
                    configuration.redis.url = try RedisURL(parsing: text)
                } catch {
                    throw SettingError("\(error)")
                }
            }),
        Setting(
            "REDIS_SENTINEL_PASSWORD", "the Sentinels' own password (their `requirepass`), instead of `sentinel_password` in the URL",
            secret: true, flag: false, current: { $0.redis.url.sentinel?.password ?? "" },
            apply: { configuration, text in
                guard configuration.redis.url.sentinel != nil else {
                    throw SettingError("set, but REDIS_URL is not a redis+sentinel:// URL")
                }
                configuration.redis.url.sentinel?.password = text.isEmpty ? nil : text
            }),
        Setting(
            "GATEWAY_REDIS_TLS_CA_FILE",
            "with `rediss`: PEM bundle of the CAs Redis' certificate must chain to (empty: the system trust store)",
            current: { $0.redisTLS.caFile ?? "" },
            apply: { configuration, text in configuration.redisTLS.caFile = text.isEmpty ? nil : text }),
        Setting(
            "GATEWAY_REDIS_TLS_CERT_FILE",
            "with `rediss`: PEM client certificate (chain) shown to Redis, for `tls-auth-clients yes` (with the key file)",
            current: { $0.redisTLS.certificateFile ?? "" },
            apply: { configuration, text in configuration.redisTLS.certificateFile = text.isEmpty ? nil : text }),
        Setting(
            "GATEWAY_REDIS_TLS_KEY_FILE", "with `rediss`: PEM private key of the client certificate",
            current: { $0.redisTLS.keyFile ?? "" },
            apply: { configuration, text in configuration.redisTLS.keyFile = text.isEmpty ? nil : text }),
        Setting(
            "GATEWAY_REDIS_TLS_SERVER_NAME",
            "with `rediss`: the name sent as SNI and verified in Redis' certificate, for every node (empty: the host dialled: the URL's, "
                + "or the address a Sentinel or the cluster names)",
            current: { $0.redisTLS.serverName ?? "" },
            apply: { configuration, text in configuration.redisTLS.serverName = text.isEmpty ? nil : text }),
        Setting(
            "GATEWAY_REDIS_TLS_VERIFY",
            "with `rediss`: `full` checks Redis' certificate chain, dates and name; `none` checks nothing (a warning at start). "
                + "TLS 1.2 at least either way",
            current: { $0.redisTLS.verify.rawValue },
            apply: { configuration, text in
                guard let verify = RedisTLSSettings.Verification(rawValue: text) else {
                    throw SettingError("'\(text)' is not one of full, none")
                }
                configuration.redisTLS.verify = verify
            }),
        Setting(
            "GATEWAY_CLUSTER_REFRESH_S",
            "seconds between reads of a cluster's slot layout (also read at once after a MOVED or a node failure)",
            current: { SettingValue.text(seconds: $0.clusterRefreshInterval) },
            apply: { $0.clusterRefreshInterval = .seconds(try SettingValue.integer($1, in: 1...3600)) }),
        Setting(
            "GATEWAY_CONNECT_TIMEOUT_MS", "Redis TCP connect timeout of one dial (dials run apart from the borrowers waiting for them)",
            current: { SettingValue.text(milliseconds: $0.redis.connectTimeout) },
            apply: { $0.redis.connectTimeout = try SettingValue.milliseconds($1, in: 1...3_600_000) }),
        Setting(
            "GATEWAY_SOCKET_TIMEOUT_MS",
            "Redis read/write timeout; past it: 504, the connection is discarded and Redis counts as stalled (not down)",
            current: { SettingValue.text(milliseconds: $0.redis.socketTimeout) },
            apply: { $0.redis.socketTimeout = try SettingValue.milliseconds($1, in: 1...3_600_000) }),
        Setting(
            "GATEWAY_CLIENT_NAME", "`CLIENT SETNAME` of pooled connections (empty: none)", current: { $0.redis.clientName ?? "" },
            apply: { configuration, text in configuration.redis.clientName = text.isEmpty ? nil : text }),
    ]

    private static let httpSettings: [Setting] = [
        Setting(
            "GATEWAY_HOST", "numeric address to listen on (`0.0.0.0` in the container)", current: { $0.http.host },
            apply: { configuration, text in configuration.http.host = text }),
        Setting(
            "GATEWAY_PORT", "port to listen on (0: any free port)", current: { String($0.http.port) },
            apply: { $0.http.port = try SettingValue.integer($1, in: 0...65535) }),
        Setting(
            "GATEWAY_TLS_CERT_FILE",
            "HTTPS: PEM certificate chain (leaf first) served to callers, with `GATEWAY_TLS_KEY_FILE`; TLS 1.2 at least. Re-read on "
                + "SIGHUP (a file that cannot be used keeps the current pair). Empty: plain HTTP",
            current: { $0.http.tlsCertificateFile ?? "" },
            apply: { configuration, text in configuration.http.tlsCertificateFile = text.isEmpty ? nil : text }),
        Setting(
            "GATEWAY_TLS_KEY_FILE", "HTTPS: PEM private key of `GATEWAY_TLS_CERT_FILE`",
            current: { $0.http.tlsKeyFile ?? "" },
            apply: { configuration, text in configuration.http.tlsKeyFile = text.isEmpty ? nil : text }),
        Setting(
            "GATEWAY_TLS_CLIENT_CA_FILE",
            "HTTPS with mTLS: PEM CAs that must have signed the certificate every caller presents; a caller without one fails the "
                + "handshake (tokens still apply). Empty: no client certificate asked for",
            current: { $0.http.tlsClientCAFile ?? "" },
            apply: { configuration, text in configuration.http.tlsClientCAFile = text.isEmpty ? nil : text }),
        Setting(
            "GATEWAY_THREADS",
            "HTTP worker threads, each serving its connections in turn (one accepting thread deals new connections to them in "
                + "turn); `auto`: one per online processor, at least 2 (requests that "
                + "wait for Redis or the database wait on threads of their own, so more would only add context switches); `0`: a thread "
                + "per connection (fairer tails, lower peak rate)",
            current: { $0.http.workerThreads.map { String($0) } ?? "auto" },
            apply: { $0.http.workerThreads = $1 == "auto" ? nil : try SettingValue.integer($1, in: 0...1024) }),
        Setting(
            "GATEWAY_CONNECTION_LIMIT", "most client connections at once", current: { String($0.http.connectionLimit) },
            apply: { $0.http.connectionLimit = try SettingValue.integer($1, in: 1...1_000_000) }),
        Setting(
            "GATEWAY_HTTP_POLLING",
            "how each HTTP thread waits for its connections: `poll` is cheaper per request while a thread has few, busy "
                + "connections (behind a proxy, a fixed set of clients), `epoll` costs the same however many sit idle; `auto`: `poll` "
                + "when `GATEWAY_CONNECTION_LIMIT` allows at most \(ConnectionPolling.pollConnectionsPerThread) per HTTP thread, else `epoll`",
            current: { $0.http.polling.rawValue },
            apply: { configuration, text in
                guard let polling = ConnectionPolling(rawValue: text) else {
                    throw SettingError("'\(text)' is not one of \(ConnectionPolling.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                configuration.http.polling = polling
            }),
        Setting(
            "GATEWAY_PER_ADDRESS_CONNECTION_LIMIT",
            "most client connections from one address, `0` for no limit; set it when clients reach the gateway directly (not through "
                + "a proxy): it keeps a slowloris flood from one host from taking every slot. With it set, libmicrohttpd's own thread "
                + "pool accepts connections (it counts them per address across threads) instead of one accepting thread dealing them "
                + "to the HTTP threads in turn, which gives a tighter latency tail",
            current: { String($0.http.perAddressConnectionLimit) },
            apply: { $0.http.perAddressConnectionLimit = try SettingValue.integer($1, in: 0...1_000_000) }),
        Setting(
            "GATEWAY_CONNECTION_TIMEOUT_S", "client connections idle this long (no byte received) are closed",
            current: { String($0.http.connectionTimeoutSeconds) },
            apply: { $0.http.connectionTimeoutSeconds = try SettingValue.integer($1, in: 1...86_400) }),
        Setting(
            "GATEWAY_REQUEST_TIMEOUT_MS",
            "a request must arrive whole (headers and body) within this of its request line, or it is answered 408 and its "
                + "connection closed, however slowly its bytes come; `0`: no bound. The request line itself must come within "
                + "`GATEWAY_CONNECTION_TIMEOUT_S` of the connection's start or previous response",
            current: { String($0.http.requestTimeoutMilliseconds) },
            apply: { $0.http.requestTimeoutMilliseconds = try SettingValue.integer($1, in: 0...3_600_000) }),
        Setting(
            "GATEWAY_CONNECTION_BUFFER_BYTES",
            "libmicrohttpd's buffer per client connection, for the request line and headers together (414/431 beyond); every "
                + "open connection that has served a request keeps all of it resident (libmicrohttpd zeroes it after each), so it "
                + "sets the memory of idle keep-alive connections and event streams. Raised to at least 3 × "
                + "`GATEWAY_MAX_KEY_BYTES` + 2048 (a fully percent-encoded longest key); raise it for long URLs (values in the "
                + "path of the command API) or large headers",
            current: { String($0.http.connectionMemoryBytes) },
            apply: { $0.http.connectionMemoryBytes = try SettingValue.integer($1, in: 4096...(1 << 24)) }),
        Setting(
            "GATEWAY_MAX_BODY_BYTES", "largest request body (413 beyond)", current: { String($0.http.maxBodyBytes) },
            apply: { $0.http.maxBodyBytes = try SettingValue.integer($1, in: 0...(1 << 31)) }),
        Setting(
            "GATEWAY_MAX_KEY_BYTES", "longest key after percent-decoding (400 beyond); the per-connection header buffer grows with it",
            current: { String($0.maxKeyBytes) }, apply: { $0.maxKeyBytes = try SettingValue.integer($1, in: 1...(512 * 1024 * 1024)) }),
    ]

    private static let poolSettings: [Setting] = [
        Setting(
            "GATEWAY_MAX_CONNECTIONS", "most Redis connections, ever", current: { String($0.pool.maxConnections) },
            apply: { $0.pool.maxConnections = try SettingValue.integer($1, in: 1...10_000) }),
        Setting(
            "GATEWAY_WAIT_TIMEOUT_MS",
            "deadline for a whole borrow: waiting for a connection or a dial, health check (a stalled Redis is waited for this long)",
            current: { SettingValue.text(milliseconds: $0.pool.waitTimeout) },
            apply: { $0.pool.waitTimeout = try SettingValue.milliseconds($1, in: 1...3_600_000) }),
        Setting(
            "GATEWAY_HEALTH_CHECK_INTERVAL_MS", "idle connections older than this are PINGed before reuse",
            current: { SettingValue.text(milliseconds: $0.pool.healthCheckInterval) },
            apply: { $0.pool.healthCheckInterval = try SettingValue.milliseconds($1, in: 0...86_400_000) }),
        Setting(
            "GATEWAY_MIN_IDLE", "idle connections kept open, opened at start and again after an outage",
            current: { String($0.pool.minIdle) }, apply: { $0.pool.minIdle = try SettingValue.integer($1, in: 0...10_000) }),
        Setting(
            "GATEWAY_MAX_LIFETIME_S", "connections older than this (each shortened by up to 10 % at random) are replaced; `0`: never",
            current: { SettingValue.text(seconds: $0.pool.maxLifetime) },
            apply: { configuration, text in
                let seconds = try SettingValue.integer(text, in: 0...31_536_000)
                configuration.pool.maxLifetime = seconds == 0 ? nil : .seconds(seconds)
            }),
        Setting(
            "GATEWAY_IDLE_TIMEOUT_S", "idle connections beyond `GATEWAY_MIN_IDLE` unused this long are closed; `0`: never",
            current: { SettingValue.text(seconds: $0.pool.idleTimeout) },
            apply: { configuration, text in
                let seconds = try SettingValue.integer(text, in: 0...31_536_000)
                configuration.pool.idleTimeout = seconds == 0 ? nil : .seconds(seconds)
            }),
        Setting(
            "GATEWAY_MAX_CONCURRENT_DIALS", "most Redis connects in flight at once", current: { String($0.pool.maxConcurrentDials) },
            apply: { $0.pool.maxConcurrentDials = try SettingValue.integer($1, in: 1...1000) }),
        Setting(
            "GATEWAY_RECONNECT_BACKOFF_MS",
            "while Redis is down, first delay before the single background probe; doubles per failed probe (half fixed, half random)",
            current: { SettingValue.text(milliseconds: $0.pool.reconnectBackoff) },
            apply: { $0.pool.reconnectBackoff = try SettingValue.milliseconds($1, in: 1...3_600_000) }),
        Setting(
            "GATEWAY_RECONNECT_BACKOFF_CAP_MS", "longest delay between probes",
            current: { SettingValue.text(milliseconds: $0.pool.reconnectBackoffCap) },
            apply: { $0.pool.reconnectBackoffCap = try SettingValue.milliseconds($1, in: 1...3_600_000) }),
        Setting(
            "GATEWAY_LEAK_DETECTION_MS", "a connection held longer is logged once (warning, with the route) and counted; `0`: off",
            current: { $0.pool.leakDetectionThreshold.map { SettingValue.text(milliseconds: $0) } ?? "0" },
            apply: { configuration, text in
                let milliseconds = try SettingValue.integer(text, in: 0...86_400_000)
                configuration.pool.leakDetectionThreshold = milliseconds == 0 ? nil : .milliseconds(milliseconds)
            }),
        Setting(
            "GATEWAY_REDIS_SENDERS",
            "connections (and their I/O threads) that carry shared leases, this many for read-only requests and as many for "
                + "the others: requests of up to 8 commands that change no connection state and do not block (single commands, "
                + "`GET`/`PUT /cache/{key}`) ride them pipelined with other requests' commands while the HTTP threads serve other "
                + "connections (on a cluster, per primary, for requests whose keys share one slot); one each is fastest on two "
                + "cores; `0`: every request takes an exclusive lease, on a worker thread",
            current: { String($0.redisSenders) }, apply: { $0.redisSenders = try SettingValue.integer($1, in: 0...64) }),
        Setting(
            "GATEWAY_POOL_MODE", "`per-request`: a new Redis connection per request, only to demonstrate the anti-pattern",
            current: { $0.pool.reuseConnections ? "pooled" : "per-request" },
            apply: { configuration, text in
                switch text {
                case "pooled": configuration.pool.reuseConnections = true
                case "per-request": configuration.pool.reuseConnections = false
                default: throw SettingError("'\(text)' is not pooled or per-request")
                }
            }),
    ]

    private static let resilienceSettings: [Setting] = [
        Setting(
            "GATEWAY_RETRY_ATTEMPTS", "re-sends of a failed request on a fresh connection, only when safe; `0`: never",
            current: { String($0.retry.attempts) }, apply: { $0.retry.attempts = try SettingValue.integer($1, in: 0...10) }),
        Setting(
            "GATEWAY_RETRY_BACKOFF_MS", "wait before the first re-send; doubles (half fixed, half random) up to 100 ms",
            current: { SettingValue.text(milliseconds: $0.retry.backoff) },
            apply: { $0.retry.backoff = try SettingValue.milliseconds($1, in: 0...10_000) }),
        Setting(
            "GATEWAY_RETRY_AFTER_TIMEOUT",
            "`1`: read-only requests are re-sent after a socket timeout too (each try may take a whole timeout)",
            current: { $0.retry.resendAfterTimeout ? "1" : "0" }, apply: { $0.retry.resendAfterTimeout = try SettingValue.flag($1) }),
        Setting(
            "GATEWAY_RETRY_UNCONDITIONAL_SET", "`1`: `SET` without `NX`/`XX`/`GET` counts as safe to re-send after an ambiguous failure",
            current: { $0.retry.resendUnconditionalSet ? "1" : "0" }, apply: { $0.retry.resendUnconditionalSet = try SettingValue.flag($1) }
        ),
        Setting(
            "GATEWAY_MIN_REPLICA_ACKS",
            "replicas that must confirm each write (`WAIT n`, pipelined) before it is acknowledged; unconfirmed writes get 504. "
                + "With Sentinel, `1` and at least two replicas",
            current: { String($0.replicaAcknowledgement.replicas) },
            apply: { $0.replicaAcknowledgement.replicas = try SettingValue.integer($1, in: 0...100) }),
        Setting(
            "GATEWAY_REPLICA_ACK_TIMEOUT_MS", "how long a write waits for those confirmations",
            current: { SettingValue.text(milliseconds: $0.replicaAcknowledgement.timeout) },
            apply: { $0.replicaAcknowledgement.timeout = try SettingValue.milliseconds($1, in: 1...60_000) }),
    ]

    private static let apiSettings: [Setting] = [
        Setting(
            "GATEWAY_TOKENS", "full-access tokens, comma-separated (prefer the environment or a file: flags show in `ps`); none: auth off",
            secret: true, current: { $0.auth.tokens.joined(separator: ",") },
            apply: { configuration, text in configuration.auth.tokens += SettingValue.list(text) }),
        Setting(
            "GATEWAY_READONLY_TOKENS", "read-only tokens, comma-separated", secret: true,
            current: { $0.auth.readOnlyTokens.joined(separator: ",") },
            apply: { configuration, text in configuration.auth.readOnlyTokens += SettingValue.list(text) }),
        Setting(
            "GATEWAY_TOKENS_FILE", "file: one token per line, `readonly TOKEN` for read-only, `#` comments",
            current: { $0.auth.tokensFile ?? "" }, apply: { try $0.auth.readTokensFile($1) }),
        Setting(
            "GATEWAY_CORS_ORIGINS",
            "browsers: origins whose pages may call the gateway (CORS), comma-separated `scheme://host[:port]`, or `*` for any; "
                + "preflights need no token, errors carry the headers too. Empty: no CORS headers",
            current: { $0.crossOrigin.summary },
            apply: { configuration, text in
                switch CrossOriginPolicy.parse(text) {
                case .success(let policy): configuration.crossOrigin = policy
                case .failure(let error): throw SettingError("'\(error.entry)' is not an origin (scheme://host[:port], no path) or *")
                }
            }),
        Setting(
            "GATEWAY_PROTECT_METRICS", "`1`: `/metrics`, `/pool/stats`, `/pool/health` need a token too",
            current: { $0.auth.protectMetrics ? "1" : "0" }, apply: { $0.auth.protectMetrics = try SettingValue.flag($1) }),
        Setting(
            "GATEWAY_ALLOW_UNAUTHENTICATED",
            "`1`: start without tokens on an address other than loopback (refused otherwise: anyone who reaches the port could run "
                + "commands)",
            current: { $0.auth.allowUnauthenticated ? "1" : "0" }, apply: { $0.auth.allowUnauthenticated = try SettingValue.flag($1) }),
        Setting(
            "GATEWAY_ALLOW_COMMANDS", "commands to take off the default deny list, e.g. `FLUSHDB`",
            current: { CommandTable.administrative.subtracting($0.commandPolicy.denied).sorted().joined(separator: ",") },
            apply: { configuration, text in configuration.commandPolicy.denied.subtract(SettingValue.list(text).map { $0.uppercased() }) }),
        Setting(
            "GATEWAY_DENY_COMMANDS", "commands to refuse in addition, e.g. `KEYS` (deny wins over allow)",
            current: { $0.commandPolicy.denied.subtracting(CommandTable.administrative).sorted().joined(separator: ",") },
            apply: { configuration, text in configuration.commandPolicy.denied.formUnion(SettingValue.list(text).map { $0.uppercased() }) }),
        Setting(
            "GATEWAY_COMMAND_ALLOWLIST", "allow-list mode: only these commands run",
            current: { $0.commandPolicy.allowList?.sorted().joined(separator: ",") ?? "" },
            apply: { configuration, text in configuration.commandPolicy.allowList = Set(SettingValue.list(text).map { $0.uppercased() }) }),
        Setting(
            "GATEWAY_MAX_BATCH_COMMANDS", "most commands in one `/pipeline` or `/multi-exec` batch",
            current: { String($0.commandLimits.maxCommandsPerBatch) },
            apply: { $0.commandLimits.maxCommandsPerBatch = try SettingValue.integer($1, in: 1...1_000_000) }),
        Setting(
            "GATEWAY_MAX_REPLY_BYTES",
            "most memory one request's Redis replies may take while they are read (a batch's replies together; their strings, "
                + "8 bytes per array element, 48 per value); past it 413, the rest read but never built. A JSON body may be twice this",
            current: { String($0.redis.maxReplyBytes) },
            apply: { $0.redis.maxReplyBytes = try SettingValue.integer($1, in: 4096...(1 << 32)) }),
        Setting(
            "GATEWAY_MAX_COMMAND_ARGUMENTS", "most arguments in one command", current: { String($0.commandLimits.maxArgumentsPerCommand) },
            apply: { $0.commandLimits.maxArgumentsPerCommand = try SettingValue.integer($1, in: 1...100_000_000) }),
    ]

    private static let pubsubSettings: [Setting] = [
        Setting(
            "GATEWAY_MAX_SUBSCRIBERS",
            "most event streams (`/subscribe`, `/psubscribe`) open at once, 503 beyond; each is an HTTP connection too, so keep "
                + "`GATEWAY_CONNECTION_LIMIT` above it",
            current: { String($0.pubsub.maxSubscribers) },
            apply: { $0.pubsub.maxSubscribers = try SettingValue.integer($1, in: 0...1_000_000) }
        ),
        Setting(
            "GATEWAY_SSE_BUFFER_BYTES",
            "most bytes waiting unsent to one event stream; a consumer further behind gets a final `dropped` event and is closed",
            current: { String($0.pubsub.bufferBytes) },
            apply: { $0.pubsub.bufferBytes = try SettingValue.integer($1, in: 1024...(1 << 30)) }),
        Setting(
            "GATEWAY_SSE_HEARTBEAT_S", "seconds between the comment lines sent on every event stream (keeps proxies from closing it)",
            current: { SettingValue.text(seconds: $0.pubsub.heartbeat) },
            apply: { $0.pubsub.heartbeat = .seconds(try SettingValue.integer($1, in: 1...3600)) }),
    ]

    private static let sessionSettings: [Setting] = [
        Setting(
            "GATEWAY_DATABASE_PATH", "SQLite file of the session example's users (created and seeded when empty)",
            current: { $0.session.databasePath },
            apply: { configuration, text in
                guard !text.isEmpty else { throw SettingError("must not be empty") }
                configuration.session.databasePath = text
            }),
        Setting(
            "GATEWAY_SEED_USERS", "demo users seeded into an empty database", current: { String($0.session.seedUsers) },
            apply: { $0.session.seedUsers = try SettingValue.integer($1, in: 0...10_000_000) }),
        Setting(
            "GATEWAY_SESSION_TTL_S", "session lifetime, refreshed on every use", current: { String($0.session.sessionTTLSeconds) },
            apply: { $0.session.sessionTTLSeconds = try SettingValue.integer($1, in: 1...31_536_000) }),
        Setting(
            "GATEWAY_USER_CACHE_TTL_S", "how long a user's data (`__gateway:user_data:{id}`, sealed) stays cached",
            current: { String($0.session.userCacheTTLSeconds) },
            apply: { $0.session.userCacheTTLSeconds = try SettingValue.integer($1, in: 1...31_536_000) }),
        Setting(
            "GATEWAY_NEGATIVE_CACHE_TTL_S", "how long a missing user's absence stays cached",
            current: { String($0.session.negativeCacheTTLSeconds) },
            apply: { $0.session.negativeCacheTTLSeconds = try SettingValue.integer($1, in: 1...31_536_000) }),
        Setting(
            "GATEWAY_COOKIE_SECURE", "`1`: the session cookie is `Secure` (behind HTTPS)", current: { $0.session.secureCookie ? "1" : "0" },
            apply: { $0.session.secureCookie = try SettingValue.flag($1) }),
        Setting(
            "GATEWAY_RESERVED_KEY_PREFIX",
            "the session example's keys (sessions, cached user data, login counters) start with this; the cache and command APIs "
                + "refuse any key or argument that does (403)",
            current: { $0.session.reservedKeyPrefix },
            apply: { configuration, text in
                guard !text.isEmpty else { throw SettingError("the reserved prefix cannot be empty") }
                configuration.session.reservedKeyPrefix = text
            }),
        Setting(
            "GATEWAY_SESSION_SECRET",
            "at least 32 bytes (as text) that seal sessions and cached user data in Redis, so no token can forge or read them; "
                + "give every gateway sharing a Redis the same one. Unset: a random one at start (sessions end with the process)",
            secret: true, flag: false, current: { $0.session.secret.map { String(decoding: $0, as: UTF8.self) } ?? "" },
            apply: { configuration, text in
                guard text.utf8.count >= 32 else { throw SettingError("the session secret must be at least 32 bytes") }
                configuration.session.secret = Array(text.utf8)
            }),
        Setting(
            "GATEWAY_PASSWORD_ROUNDS",
            "PBKDF2-SHA256 rounds of the demo users' password hash when they are seeded (each login costs this many); "
                + "fewer than 210000 only for tests and benchmarks",
            current: { String($0.session.passwordRounds) },
            apply: { $0.session.passwordRounds = try SettingValue.integer($1, in: 1000...10_000_000) }),
        Setting(
            "GATEWAY_LOGIN_LIMIT_PER_ADDRESS", "`/api/login` attempts allowed per client address in any minute (429 beyond)",
            current: { String($0.session.loginLimitPerAddress) },
            apply: { $0.session.loginLimitPerAddress = try SettingValue.integer($1, in: 1...1_000_000) }),
        Setting(
            "GATEWAY_LOGIN_LIMIT_PER_USER", "`/api/login` attempts allowed per user in any minute, whatever the address (429 beyond)",
            current: { String($0.session.loginLimitPerUser) },
            apply: { $0.session.loginLimitPerUser = try SettingValue.integer($1, in: 1...1_000_000) }),
    ]

    private static let processSettings: [Setting] = [
        Setting(
            "GATEWAY_SHUTDOWN_GRACE_MS", "on SIGTERM, how long requests in flight may take to finish",
            current: { SettingValue.text(milliseconds: $0.shutdownGrace) },
            apply: { $0.shutdownGrace = try SettingValue.milliseconds($1, in: 0...3_600_000) }),
        Setting(
            "GATEWAY_LOG_LEVEL",
            "`trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`; `debug` logs every request with its id",
            current: { $0.logLevel.rawValue },
            apply: { configuration, text in
                guard let level = Logger.Level(rawValue: text) else {
                    throw SettingError("'\(text)' is not one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                configuration.logLevel = level
            }),
    ]
}
