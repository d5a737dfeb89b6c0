import ConnectionPool
import CoreUtilities
import HTTPServer
import RedisClient

/// `/healthz` (the process is alive), `/readyz` (Redis answers) and `/pool/health` (a borrow and a
/// PING, timed).
struct HealthHandlers: Sendable {
    let redis: RedisExecutor
    let drain: DrainSignal

    /// `GET /healthz`: always 200 while the process serves HTTP; never touches Redis.
    func healthz(_ request: HTTPRequest) -> HTTPResponse {
        var json = JSONObject()
        json.add("status", string: "ok")
        return .json(200, json)
    }

    /// `GET /readyz`: 503 while the gateway drains, and at once while the pool knows Redis is down
    /// (with since when and the last error); otherwise 200 when a pooled PING succeeds, else 503.
    func readyz(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        if drain.isDraining { throw .notReady(.draining) }
        let availability = redis.availability
        if case .down = availability { throw .notReady(.redisDown(availability)) }
        _ = try ping(label: request.route)
        var json = JSONObject()
        json.add("status", string: "ready")
        json.merge(PoolAvailabilityRendering.members(availability))
        return .json(200, json)
    }

    /// `GET /pool/health`: borrows, PINGs, and reports the round trip in milliseconds.
    func poolHealth(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        let latency = try ping(label: request.route)
        var json = JSONObject()
        json.add("status", string: "ok")
        json.add("latency_ms", (latency.millisecondsDouble * 1000).rounded() / 1000)
        return .json(200, json)
    }

    private func ping(label: String) throws(GatewayError) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        let reply = try redis.execute(RedisCommand("PING"), label: label)
        guard reply == .status("PONG") else { throw .redisReply("unexpected reply to PING") }
        return clock.now - start
    }
}
