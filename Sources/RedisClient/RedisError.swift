/// A failure talking to Redis. Every one of them leaves the connection broken (hiredis never
/// reuses a context that saw an error). Redis *error replies* are not errors here: they come back
/// as `RedisValue.error` and leave the connection usable.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Sendable, Equatable {
        /// The TCP connection could not be made (refused, unreachable, connect timeout).
        case connectFailed
        /// AUTH, SELECT or CLIENT SETNAME was refused while preparing the connection.
        case handshakeFailed
        /// A read or write did not complete within the socket timeout.
        case timeout
        /// The socket failed or Redis closed it.
        case io
        /// Redis sent bytes that are not RESP.
        case protocolError
        /// The connection was already broken by an earlier error.
        case connectionBroken
        /// A reply would take more memory than the reply budget allows; the connection was given up
        /// before the rest of it arrived.
        case replyTooLarge
    }

    /// The kind of failure.
    public let kind: Kind
    /// What happened, for logs and error bodies.
    public let message: String
    /// False when the request is known not to have reached Redis (the connection was found dead
    /// before anything was written, or the write failed before its first byte): re-sending it on a
    /// fresh connection cannot run it twice. True whenever Redis may have run it.
    public let mayHaveReachedRedis: Bool

    /// A failure of `kind` described by `message`; by default Redis may have seen the request
    /// unless the connection was never made or was already broken.
    public init(_ kind: Kind, _ message: String, mayHaveReachedRedis: Bool? = nil) {
        self.kind = kind
        self.message = message
        self.mayHaveReachedRedis = mayHaveReachedRedis ?? ![.connectFailed, .handshakeFailed, .connectionBroken].contains(kind)
    }

    public var description: String { message }
}
