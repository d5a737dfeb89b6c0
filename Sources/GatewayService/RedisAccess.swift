public import ConnectionPool
public import RedisClient

/// The service's one way to talk to Redis: borrow from the shared pool, run commands, give the
/// connection back, and turn every failure into a `GatewayError`.
///
/// Threading: shared by all worker threads; each call borrows its own connection.
public struct RedisAccess: Sendable {
    /// The shared pool.
    public let pool: RedisConnectionPool

    /// Access through `pool`.
    public init(pool: RedisConnectionPool) {
        self.pool = pool
    }

    /// Sends `commands` as one pipeline on one borrowed connection and returns their replies.
    public func pipeline(_ commands: [RedisCommand]) throws(GatewayError) -> [RedisValue] {
        do {
            return try pool.withConnection { connection throws(RedisError) in
                try connection.pipeline(commands)
            }
        } catch {
            switch error {
            case .pool(let poolError): throw .pool(poolError)
            case .operation(let redisError): throw .redis(redisError)
            }
        }
    }

    /// Sends one command and returns its reply; an error reply throws `.redisReply`.
    public func send(_ command: RedisCommand) throws(GatewayError) -> RedisValue {
        let reply = try pipeline([command])[0]
        if let message = reply.errorMessage { throw .redisReply(message) }
        return reply
    }
}
