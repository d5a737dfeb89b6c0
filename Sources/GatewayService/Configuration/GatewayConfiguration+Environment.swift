import ConnectionPool
import Foundation
import HTTPServer
import RedisClient

extension GatewayConfiguration {
    /// Every setting read from the environment, with its variable name and meaning. The executable
    /// offers each as a flag too (flags win); README's configuration table lists the same keys.
    public enum Key: String, CaseIterable, Sendable {
        case redisURL = "REDIS_URL"
        case host = "GATEWAY_HOST"
        case port = "GATEWAY_PORT"
        case threads = "GATEWAY_THREADS"
        case connectionLimit = "GATEWAY_CONNECTION_LIMIT"
        case perAddressConnectionLimit = "GATEWAY_PER_ADDRESS_CONNECTION_LIMIT"
        case connectionTimeoutSeconds = "GATEWAY_CONNECTION_TIMEOUT_S"
        case maxConnections = "GATEWAY_MAX_CONNECTIONS"
        case waitTimeoutMilliseconds = "GATEWAY_WAIT_TIMEOUT_MS"
        case connectTimeoutMilliseconds = "GATEWAY_CONNECT_TIMEOUT_MS"
        case socketTimeoutMilliseconds = "GATEWAY_SOCKET_TIMEOUT_MS"
        case healthCheckIntervalMilliseconds = "GATEWAY_HEALTH_CHECK_INTERVAL_MS"
        case minIdle = "GATEWAY_MIN_IDLE"
        case maxLifetimeSeconds = "GATEWAY_MAX_LIFETIME_S"
        case idleTimeoutSeconds = "GATEWAY_IDLE_TIMEOUT_S"
        case maxConcurrentDials = "GATEWAY_MAX_CONCURRENT_DIALS"
        case reconnectBackoffMilliseconds = "GATEWAY_RECONNECT_BACKOFF_MS"
        case reconnectBackoffCapMilliseconds = "GATEWAY_RECONNECT_BACKOFF_CAP_MS"
        case leakDetectionMilliseconds = "GATEWAY_LEAK_DETECTION_MS"
        case shutdownGraceMilliseconds = "GATEWAY_SHUTDOWN_GRACE_MS"
        case retryAttempts = "GATEWAY_RETRY_ATTEMPTS"
        case retryBackoffMilliseconds = "GATEWAY_RETRY_BACKOFF_MS"
        case retryAfterTimeout = "GATEWAY_RETRY_AFTER_TIMEOUT"
        case retryUnconditionalSet = "GATEWAY_RETRY_UNCONDITIONAL_SET"
        case minReplicaAcks = "GATEWAY_MIN_REPLICA_ACKS"
        case replicaAckTimeoutMilliseconds = "GATEWAY_REPLICA_ACK_TIMEOUT_MS"
        case sentinelPassword = "REDIS_SENTINEL_PASSWORD"
        case maxBodyBytes = "GATEWAY_MAX_BODY_BYTES"
        case maxKeyBytes = "GATEWAY_MAX_KEY_BYTES"
        case clientName = "GATEWAY_CLIENT_NAME"
        case tokens = "GATEWAY_TOKENS"
        case readOnlyTokens = "GATEWAY_READONLY_TOKENS"
        case tokensFile = "GATEWAY_TOKENS_FILE"
        case protectMetrics = "GATEWAY_PROTECT_METRICS"
        case allowCommands = "GATEWAY_ALLOW_COMMANDS"
        case denyCommands = "GATEWAY_DENY_COMMANDS"
        case commandAllowList = "GATEWAY_COMMAND_ALLOWLIST"
        case maxBatchCommands = "GATEWAY_MAX_BATCH_COMMANDS"
        case maxCommandArguments = "GATEWAY_MAX_COMMAND_ARGUMENTS"
        case poolMode = "GATEWAY_POOL_MODE"
        case databasePath = "GATEWAY_DATABASE_PATH"
        case seedUsers = "GATEWAY_SEED_USERS"
        case sessionTTL = "GATEWAY_SESSION_TTL_S"
        case userCacheTTL = "GATEWAY_USER_CACHE_TTL_S"
        case negativeCacheTTL = "GATEWAY_NEGATIVE_CACHE_TTL_S"
        case secureCookie = "GATEWAY_COOKIE_SECURE"
    }

    /// The defaults overridden by `environment` (variable name → value); throws a message naming
    /// the variable for a value that does not parse or is out of range.
    public init(environment: [String: String]) throws(ConfigurationError) {
        self.init()
        for key in Key.allCases {
            guard let text = environment[key.rawValue] else { continue }
            try apply(key, text)
        }
    }

    private mutating func apply(_ key: Key, _ text: String) throws(ConfigurationError) {
        switch key {
        case .redisURL:
            do {
                redis.url = try RedisURL(parsing: text)
            } catch {
                throw ConfigurationError(key: key, message: error.description)
            }
        case .host:
            http.host = text
        case .port:
            http.port = try integer(key, text, in: 0...65535)
        case .threads:
            http.workerThreads = try integer(key, text, in: 0...1024)
        case .connectionLimit:
            http.connectionLimit = try integer(key, text, in: 1...1_000_000)
        case .perAddressConnectionLimit:
            http.perAddressConnectionLimit = try integer(key, text, in: 0...1_000_000)
        case .connectionTimeoutSeconds:
            http.connectionTimeoutSeconds = try integer(key, text, in: 1...86_400)
        case .maxConnections:
            pool.maxConnections = try integer(key, text, in: 1...10_000)
        case .waitTimeoutMilliseconds:
            pool.waitTimeout = .milliseconds(try integer(key, text, in: 1...3_600_000))
        case .connectTimeoutMilliseconds:
            redis.connectTimeout = .milliseconds(try integer(key, text, in: 1...3_600_000))
        case .socketTimeoutMilliseconds:
            redis.socketTimeout = .milliseconds(try integer(key, text, in: 1...3_600_000))
        case .healthCheckIntervalMilliseconds:
            pool.healthCheckInterval = .milliseconds(try integer(key, text, in: 0...86_400_000))
        case .minIdle:
            pool.minIdle = try integer(key, text, in: 0...10_000)
        case .maxLifetimeSeconds:
            let seconds = try integer(key, text, in: 0...31_536_000)
            pool.maxLifetime = seconds == 0 ? nil : .seconds(seconds)
        case .idleTimeoutSeconds:
            let seconds = try integer(key, text, in: 0...31_536_000)
            pool.idleTimeout = seconds == 0 ? nil : .seconds(seconds)
        case .maxConcurrentDials:
            pool.maxConcurrentDials = try integer(key, text, in: 1...1000)
        case .reconnectBackoffMilliseconds:
            pool.reconnectBackoff = .milliseconds(try integer(key, text, in: 1...3_600_000))
        case .reconnectBackoffCapMilliseconds:
            pool.reconnectBackoffCap = .milliseconds(try integer(key, text, in: 1...3_600_000))
        case .leakDetectionMilliseconds:
            let milliseconds = try integer(key, text, in: 0...86_400_000)
            pool.leakDetectionThreshold = milliseconds == 0 ? nil : .milliseconds(milliseconds)
        case .shutdownGraceMilliseconds:
            shutdownGrace = .milliseconds(try integer(key, text, in: 0...3_600_000))
        case .retryAttempts:
            retry.attempts = try integer(key, text, in: 0...10)
        case .retryBackoffMilliseconds:
            retry.backoff = .milliseconds(try integer(key, text, in: 0...10_000))
        case .retryAfterTimeout:
            retry.resendAfterTimeout = try flag(key, text)
        case .retryUnconditionalSet:
            retry.resendUnconditionalSet = try flag(key, text)
        case .minReplicaAcks:
            replicaAcknowledgement.replicas = try integer(key, text, in: 0...100)
        case .replicaAckTimeoutMilliseconds:
            replicaAcknowledgement.timeout = .milliseconds(try integer(key, text, in: 1...60_000))
        case .sentinelPassword:
            guard redis.url.sentinel != nil else {
                throw ConfigurationError(key: key, message: "set, but REDIS_URL is not a redis+sentinel:// URL")
            }
            redis.url.sentinel?.password = text.isEmpty ? nil : text
        case .maxBodyBytes:
            http.maxBodyBytes = try integer(key, text, in: 0...(1 << 31))
        case .maxKeyBytes:
            maxKeyBytes = try integer(key, text, in: 1...(512 * 1024 * 1024))
        case .clientName:
            redis.clientName = text.isEmpty ? nil : text
        case .tokens:
            auth.tokens += list(text)
        case .readOnlyTokens:
            auth.readOnlyTokens += list(text)
        case .tokensFile:
            try readTokensFile(text)
        case .protectMetrics:
            auth.protectMetrics = try flag(key, text)
        case .allowCommands:
            commandPolicy.denied.subtract(list(text).map { $0.uppercased() })
        case .denyCommands:
            commandPolicy.denied.formUnion(list(text).map { $0.uppercased() })
        case .commandAllowList:
            commandPolicy.allowList = Set(list(text).map { $0.uppercased() })
        case .maxBatchCommands:
            commandLimits.maxCommandsPerBatch = try integer(key, text, in: 1...1_000_000)
        case .maxCommandArguments:
            commandLimits.maxArgumentsPerCommand = try integer(key, text, in: 1...100_000_000)
        case .poolMode:
            switch text {
            case "pooled": pool.reuseConnections = true
            case "per-request": pool.reuseConnections = false
            default: throw ConfigurationError(key: key, message: "'\(text)' is not pooled or per-request")
            }
        case .databasePath:
            guard !text.isEmpty else { throw ConfigurationError(key: key, message: "must not be empty") }
            session.databasePath = text
        case .seedUsers:
            session.seedUsers = try integer(key, text, in: 0...10_000_000)
        case .sessionTTL:
            session.sessionTTLSeconds = try integer(key, text, in: 1...31_536_000)
        case .userCacheTTL:
            session.userCacheTTLSeconds = try integer(key, text, in: 1...31_536_000)
        case .negativeCacheTTL:
            session.negativeCacheTTLSeconds = try integer(key, text, in: 1...31_536_000)
        case .secureCookie:
            session.secureCookie = try flag(key, text)
        }
    }

    /// Comma-separated items, trimmed, empty ones dropped.
    private func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func flag(_ key: Key, _ text: String) throws(ConfigurationError) -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw ConfigurationError(key: key, message: "'\(text)' is not 1/0, true/false, yes/no or on/off")
        }
    }

    /// One token per line; `readonly TOKEN` for a read-only one; blank lines and `#` comments skipped.
    private mutating func readTokensFile(_ path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: .tokensFile, message: "cannot read \(path)")
        }
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            if first.lowercased() == "readonly", words.count == 2 {
                auth.readOnlyTokens.append(String(words[1]))
            } else if words.count == 1 {
                auth.tokens.append(String(first))
            } else {
                throw ConfigurationError(key: .tokensFile, message: "a line must be TOKEN or 'readonly TOKEN'")
            }
        }
    }

    private func integer(_ key: Key, _ text: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(key: key, message: "'\(text)' is not a whole number in \(range)")
        }
        return value
    }

    /// One line per setting, the Redis password masked: printed at startup.
    public var summary: [String] {
        [
            "redis: \(redis.url) (connect timeout \(redis.connectTimeout), socket timeout \(redis.socketTimeout), "
                + "client name \(redis.clientName ?? "-"))",
            "pool: max \(pool.maxConnections) connections, wait timeout \(pool.waitTimeout), "
                + "health check after \(pool.healthCheckInterval) idle, \(pool.minIdle) kept idle, "
                + "lifetime \(pool.maxLifetime.map { "\($0)" } ?? "unbounded"), idle timeout \(pool.idleTimeout.map { "\($0)" } ?? "none"), "
                + "\(pool.maxConcurrentDials) dials at once, reconnect backoff \(pool.reconnectBackoff)…\(pool.reconnectBackoffCap), "
                + "leak detection \(pool.leakDetectionThreshold.map { "after \($0)" } ?? "off")"
                + (pool.reuseConnections
                    ? "" : " - PER-REQUEST MODE: a new Redis connection for every request (a demonstration of the anti-pattern)"),
            "retries: up to \(retry.attempts) re-sends from \(retry.backoff) (only requests that never reached Redis, or read-only ones"
                + (retry.resendUnconditionalSet ? " and plain SET" : "") + (retry.resendAfterTimeout ? "; also after timeouts" : "") + ")",
            "replication: "
                + (replicaAcknowledgement.replicas > 0
                    ? "writes confirmed by \(replicaAcknowledgement.replicas) replica(s) within \(replicaAcknowledgement.timeout) (WAIT)"
                    : "writes acknowledged by the master alone"),
            "auth: \(auth.tokens.count) full and \(auth.readOnlyTokens.count) read-only tokens"
                + (auth.tokens.isEmpty && auth.readOnlyTokens.isEmpty ? " (AUTHENTICATION OFF)" : "")
                + (auth.protectMetrics ? ", metrics protected" : ", metrics open"),
            "commands: " + (commandPolicy.allowList.map { "allow-list of \($0.count)" } ?? "\(commandPolicy.denied.count) denied")
                + ", batches up to \(commandLimits.maxCommandsPerBatch) commands",
            "sessions: database \(session.databasePath) (\(session.seedUsers) users seeded when empty), sessions \(session.sessionTTLSeconds) s, "
                + "user cache \(session.userCacheTTLSeconds) s, negative cache \(session.negativeCacheTTLSeconds) s",
            "http: \(http.host):\(http.port), \(http.workerThreads) worker threads, "
                + "\(http.connectionLimit) connections max"
                + (http.perAddressConnectionLimit > 0 ? " (\(http.perAddressConnectionLimit) per address)" : "")
                + ", idle ones closed after \(http.connectionTimeoutSeconds) s, bodies up to \(http.maxBodyBytes) bytes, "
                + "keys up to \(maxKeyBytes) bytes",
        ]
    }
}

/// A configuration value that cannot be used.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The setting at fault.
    public let key: GatewayConfiguration.Key
    /// What is wrong with it.
    public let message: String

    public var description: String { "\(key.rawValue): \(message)" }
}
