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
    /// Too many attempts (the login limits); try again after `retryAfterSeconds`.
    case tooManyRequests(String, retryAfterSeconds: Int)
    /// The key (or resource) does not exist.
    case notFound(String)
    /// The request conflicts with the current state (e.g. `nx=1` on an existing key).
    case conflict(String)
    /// A conditional write's `If-Match` does not match the stored value (or there is none).
    case preconditionFailed(String)
    /// Redis answered an error reply (e.g. WRONGTYPE) to a `/cache` or session request: the
    /// request conflicts with what the key holds.
    case redisReply(String)
    /// Redis answered an error reply to a command sent through the command API (`/`, `/pipeline`,
    /// `/multi-exec`, a command in the path): the command was wrong, as Upstash answers it.
    case commandReply(String)
    /// The method is not served on this path; `allow` lists the ones that are.
    case methodNotAllowed(String, allow: String)
    /// The user the session belongs to no longer exists (the session API); `cache` says whether the
    /// absence came from the cache.
    case userGone(String, cache: String)
    /// `/readyz`: the gateway cannot serve now (draining, or Redis known down).
    case notReady(NotReadyReason)
    /// Talking to Redis failed: connection, timeout or protocol.
    case redis(RedisError)
    /// Redis refused the whole request because it cannot serve now (`LOADING`, `BUSY`,
    /// `MASTERDOWN`, `NOREPLICAS`: `UnavailableReply`); nothing ran.
    case redisUnavailable(String)
    /// The pool could not lend a connection.
    case pool(PoolError)
    /// A write reached the master but too few replicas confirmed it in time (outcome uncertain).
    case replicationUnconfirmed(String)
    /// No subscription can be opened now: the subscriber cap is reached, or the subscription
    /// connection to Redis is down.
    case subscriptionsUnavailable(String)
}

/// Why `/readyz` answers 503.
public enum NotReadyReason: Sendable {
    /// The gateway is shutting down.
    case draining
    /// The pool knows Redis is down (since when, why).
    case redisDown(PoolAvailability)
}
