import ConnectionPool
public import HTTPServer
import RedisClient

extension GatewayError {
    /// The HTTP response for this error: a status and `{"error": "..."}`. Nothing a client or Redis
    /// did yields a 500.
    public func response(retryAfterSeconds: Int) -> HTTPResponse {
        switch self {
        case .badRequest(let message):
            return .error(400, message)
        case .unauthorized:
            return .error(
                401, "WRONGPASS invalid or missing auth token", headers: [("WWW-Authenticate", #"Bearer realm="redis-gateway""#)])
        case .notLoggedIn(let message):
            return .error(401, message, headers: [("WWW-Authenticate", #"Session realm="redis-gateway""#)])
        case .loadTimedOut(let message):
            return .error(504, message)
        case .database(let message):
            return .error(503, "database unavailable: \(message)", headers: [("Retry-After", String(retryAfterSeconds))])
        case .forbidden(let message):
            return .error(403, message)
        case .payloadTooLarge(let message):
            return .error(413, message)
        case .notFound(let message):
            return .error(404, message)
        case .tooManyRequests(let message, let after):
            return .error(429, message, headers: [("Retry-After", String(after))])
        case .conflict(let message):
            return .error(409, message)
        case .preconditionFailed(let message):
            return .error(412, message)
        case .redisReply(let message):
            return .error(409, message)
        case .commandReply(let message):
            return .error(400, message)
        case .methodNotAllowed(let message, let allow):
            return .error(405, message, headers: [("Allow", allow)])
        case .userGone(let message, let cache):
            return .error(404, message, headers: [("X-Cache", cache)])
        case .notReady(.draining):
            var extra = JSONObject()
            extra.add("status", string: "draining")
            return .error(503, "the gateway is shutting down", extra: extra, headers: [("Retry-After", "1")])
        case .notReady(.redisDown(let availability)):
            var extra = JSONObject()
            extra.add("status", string: "unavailable")
            extra.merge(PoolAvailabilityRendering.members(availability))
            return .error(503, "Redis is down", extra: extra, headers: [("Retry-After", "1")])
        case .redis(let error):
            switch error.kind {
            case .timeout:
                return .error(504, "Redis timed out: \(error.message)")
            case .replyTooLarge:
                return .error(413, "\(error.message): ask for less (a smaller range, count or batch)")
            case .connectFailed, .handshakeFailed, .io, .protocolError, .connectionBroken:
                return .error(503, "Redis unavailable: \(error.message)")
            }
        case .redisUnavailable(let message):
            return .error(503, "Redis cannot serve now: \(message)", headers: [("Retry-After", String(retryAfterSeconds))])
        case .replicationUnconfirmed(let message):
            return .error(504, message)
        case .subscriptionsUnavailable(let message):
            return .error(503, message, headers: [("Retry-After", String(retryAfterSeconds))])
        case .pool(let error):
            switch error {
            case .timeout:
                return .error(503, "Redis connection pool exhausted: \(error)", headers: [("Retry-After", String(retryAfterSeconds))])
            case .unavailable:
                return .error(503, "Redis unavailable: \(error)", headers: [("Retry-After", String(retryAfterSeconds))])
            case .shutDown:
                return .error(503, "the gateway is shutting down")
            }
        }
    }
}
