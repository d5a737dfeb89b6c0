public import ConnectionPool

/// Opens `RedisConnection`s for a `ConnectionPool`.
public struct RedisConnectionFactory: ConnectionFactory {
    /// The options every connection is opened with.
    public let options: RedisConnectionOptions

    /// A factory opening connections with `options`.
    public init(options: RedisConnectionOptions) {
        self.options = options
    }

    /// Connects within `timeout` (or the configured connect timeout, whichever is shorter).
    public func makeConnection(timeout: Duration) throws -> RedisConnection {
        try RedisConnection.connect(options: options, connectTimeout: timeout)
    }
}

/// The pool type the gateway uses.
public typealias RedisConnectionPool = ConnectionPool<RedisConnectionFactory>
