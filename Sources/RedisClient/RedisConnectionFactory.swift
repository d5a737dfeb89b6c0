public import ConnectionPool

/// Opens `RedisConnection`s for a `ConnectionPool`.
public struct RedisConnectionFactory: ConnectionFactory {
    /// The options every connection is opened with.
    public let options: RedisConnectionOptions

    /// A factory opening connections with `options`.
    public init(options: RedisConnectionOptions) {
        self.options = options
    }

    /// Connects within the configured connect timeout.
    public func makeConnection() throws -> RedisConnection {
        try RedisConnection.connect(options: options)
    }
}

/// The pool type the gateway uses.
public typealias RedisConnectionPool = ConnectionPool<RedisConnectionFactory>
