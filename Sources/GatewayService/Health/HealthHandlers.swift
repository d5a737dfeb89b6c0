import ConnectionPool
import HTTPServer
import RedisClient

/// `/healthz` (the process is alive), `/readyz` (Redis answers) and `/pool/health` (a borrow and a
/// PING, timed).
struct HealthHandlers: Sendable {
    let redis: RedisAccess
    let drain: DrainSignal

    /// `GET /healthz`: always 200 while the process serves HTTP; never touches Redis.
    func healthz(_ request: HTTPRequest) -> HTTPResponse {
        .json(200, #"{"status":"ok"}"#)
    }

    /// `GET /readyz`: 503 while the gateway drains, and at once while the pool knows Redis is down
    /// (with since when and the last error); otherwise 200 when a pooled PING succeeds, else 503.
    func readyz(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        if drain.isDraining {
            return .json(503, #"{"status":"draining","error":"the gateway is shutting down"}"#, headers: [("Retry-After", "1")])
        }
        let availability = redis.pool.availability
        if case .down = availability {
            return .json(
                503, #"{"status":"unavailable","error":"Redis is down",\#(PoolAvailabilityRendering.members(availability))}"#,
                headers: [("Retry-After", "1")])
        }
        _ = try ping(label: request.route)
        return .json(200, #"{"status":"ready","state":"up"}"#)
    }

    /// `GET /pool/health`: borrows, PINGs, and reports the round trip in milliseconds.
    func poolHealth(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        let latency = try ping(label: request.route)
        let milliseconds = Double(latency.components.attoseconds) / 1e15 + Double(latency.components.seconds) * 1000
        return .json(200, #"{"status":"ok","latency_ms":\#((milliseconds * 1000).rounded() / 1000)}"#)
    }

    private func ping(label: String) throws(GatewayError) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        let reply = try redis.send(RedisCommand("PING"), label: label)
        guard reply == .status("PONG") else { throw .redisReply("unexpected reply to PING") }
        return clock.now - start
    }
}
