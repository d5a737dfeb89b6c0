public import ConnectionPool
public import RedisClient

/// Every way a gateway request can fail; mapped to an HTTP status in one place
/// (`GatewayError+HTTPResponse.swift`).
public enum GatewayError: Error, Sendable {
    /// The client sent something malformed.
    case badRequest(String)
    /// No token, or a wrong one.
    case unauthorized
    /// No valid session (the session-cache API).
    case notLoggedIn(String)
    /// Waiting for another request's load of the same data took too long.
    case loadTimedOut(String)
    /// The origin database failed.
    case database(String)
    /// The token may not do this (read-only), or the command policy refuses it.
    case forbidden(String)
    /// The request is larger than a configured bound.
    case payloadTooLarge(String)
    /// The key (or resource) does not exist.
    case notFound(String)
    /// The request conflicts with the current state (e.g. `nx=1` on an existing key).
    case conflict(String)
    /// Redis answered with an error reply (e.g. WRONGTYPE).
    case redisReply(String)
    /// Talking to Redis failed: connection, timeout or protocol.
    case redis(RedisError)
    /// The pool could not lend a connection.
    case pool(PoolError)
    /// A write reached the master but too few replicas confirmed it in time (outcome uncertain).
    case replicationUnconfirmed(String)
}
