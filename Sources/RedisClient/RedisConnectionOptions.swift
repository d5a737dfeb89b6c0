/// How to open and run one Redis connection.
public struct RedisConnectionOptions: Sendable, Equatable {
    /// Where Redis is, and the credentials and database.
    public var url = RedisURL()
    /// Upper bound for the TCP connect (the pool may pass a shorter one).
    public var connectTimeout: Duration = .seconds(1)
    /// Upper bound for each socket read and write.
    public var socketTimeout: Duration = .seconds(1)
    /// Name set with CLIENT SETNAME (visible in CLIENT LIST); nil to skip.
    public var clientName: String? = "redis-gateway"
    /// The most memory one reply (or one round trip's replies, `ReplyBudgetScope.allReplies`) may
    /// take while it is read (each string's bytes, 8 bytes per array element, 48 per value); past it
    /// nothing more is built, the reply is read through (long strings thrown away unbuffered) and
    /// fails with `.replyTooLarge`, the connection still in step; past 8 times it the connection is
    /// given up. 0: unbounded.
    public var maxReplyBytes = 16 << 20
    /// TLS to Redis (loaded CAs and client certificate, the name to verify); nil: plain TCP.
    public var tls: RedisTLSCredentials?

    /// Defaults: redis://127.0.0.1:6379/0, 1 s connect and socket timeouts, 16 MiB per reply.
    public init() {}
}
