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
    }

    /// The kind of failure.
    public let kind: Kind
    /// What happened, for logs and error bodies.
    public let message: String

    /// A failure of `kind` described by `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
