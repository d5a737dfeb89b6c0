public import ConnectionPool
public import HTTPServer
public import Logging
public import RedisClient

/// Everything the gateway can be configured with. A value type whose `init()` holds the defaults —
/// the only place they are written; `GatewayConfiguration.settings` names every setting once, and
/// flags, environment variables, `--help`, the start-up summary and README's table come from it.
public struct GatewayConfiguration: Sendable, Equatable {
    /// Redis address, credentials, timeouts and client name.
    public var redis = RedisConnectionOptions()
    /// With a `rediss` URL: the CA bundle, client certificate, name and verification of TLS to
    /// Redis (loaded into `redis.tls` when the gateway starts).
    public var redisTLS = RedisTLSSettings()
    /// On a cluster (`redis+cluster://`): time between reads of the slot layout.
    public var clusterRefreshInterval: Duration = .seconds(5)
    /// Pool size (per node on a cluster), borrow deadline and health-check interval.
    public var pool = PoolConfiguration()
    /// Listening address, worker threads, connection limits and body bound.
    public var http = HTTPServerConfiguration()
    /// Which web origins may call from a browser (CORS); none by default.
    public var crossOrigin = CrossOriginPolicy.none
    /// Longest accepted cache key, in bytes after percent-decoding. Raising it raises the per-connection
    /// header buffer too (room for the key fully percent-encoded).
    public var maxKeyBytes = 1024
    /// The session-cache service: origin database and lifetimes.
    public var session = SessionConfiguration()
    /// Tokens for the API; none means authentication is off.
    public var auth = AuthConfiguration()
    /// Which commands the command API runs (its blocking limit is set from the socket timeout).
    public var commandPolicy = CommandPolicy()
    /// Bounds on command API batches and commands.
    public var commandLimits = CommandLimits()
    /// When a failed Redis request is re-sent on a fresh connection.
    public var retry = RetryPolicy()
    /// Whether writes wait for replicas to confirm them (`WAIT`).
    public var replicaAcknowledgement = ReplicaAcknowledgement()
    /// Event streams (`/subscribe`, `/psubscribe`): cap, per-stream buffer, heartbeat.
    public var pubsub = PubSubConfiguration()
    /// Seconds a client is told to wait (`Retry-After`) when the pool is exhausted.
    public var retryAfterSeconds = 1
    /// I/O threads for shared leases (`LeasePolicy`), this many for read-only requests and as many
    /// for the others, and as many connections per group carrying shared leases (it is the pool's
    /// `maxSharedConnectionsPerGroup`); 0 gives every request an exclusive lease on a worker thread.
    /// On a cluster, per primary, for requests whose keys share one slot.
    public var redisSenders: Int {
        get { pool.maxSharedConnectionsPerGroup }
        set { pool.maxSharedConnectionsPerGroup = newValue }
    }
    /// How long a shutdown waits for requests in flight.
    public var shutdownGrace: Duration = .seconds(10)
    /// The least severe log level written.
    public var logLevel: Logger.Level = .info

    /// The defaults (see README's configuration table).
    public init() {}
}
