import ConnectionPool
import HTTPServer
import RedisClient

/// `/pool/stats` (JSON, or Prometheus text when asked) and `/metrics` (Prometheus text).
struct PoolHandlers: Sendable {
    let redis: RedisExecutor
    let rendering: PoolStatsRendering

    /// `GET /pool/stats`: JSON; Prometheus text for `?format=prometheus` or an `Accept` of
    /// `text/plain` or OpenMetrics (what a Prometheus scraper sends).
    func stats(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        switch request.queryValue("format") {
        case "prometheus": return metrics(request)
        case "json": return .json(200, rendering.json(redis.statistics, cluster: redis.clusterStatistics))
        case nil: break
        case let other?: throw .badRequest("format must be json or prometheus, got '\(other)'")
        }
        let accept = request.header("accept")?.lowercased() ?? ""
        if accept.contains("application/openmetrics-text") || accept.contains("text/plain") {
            return metrics(request)
        }
        return .json(200, rendering.json(redis.statistics, cluster: redis.clusterStatistics))
    }

    /// `GET /metrics`: the Prometheus text exposition.
    func metrics(_ request: HTTPRequest) -> HTTPResponse {
        HTTPResponse(
            status: 200,
            headers: [("Content-Type", PoolStatsRendering.prometheusContentType)],
            body: rendering.prometheus(redis.statistics, cluster: redis.clusterStatistics)
        )
    }
}
