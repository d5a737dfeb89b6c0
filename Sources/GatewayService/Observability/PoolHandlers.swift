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
        case "json": return json()
        case nil: break
        case let other?: throw .badRequest("format must be json or prometheus, got '\(other)'")
        }
        let accept = request.header("accept")?.lowercased() ?? ""
        if accept.contains("application/openmetrics-text") || accept.contains("text/plain") {
            return metrics(request)
        }
        return json()
    }

    /// The JSON document, from one snapshot (on a cluster the totals are summed from the same node snapshots).
    private func json() -> HTTPResponse {
        let cluster = redis.clusterStatistics
        return .json(200, rendering.json(cluster?.totals ?? redis.statistics, cluster: cluster))
    }

    /// `GET /metrics`: the Prometheus text exposition.
    func metrics(_ request: HTTPRequest) -> HTTPResponse {
        HTTPResponse(
            status: 200,
            headers: [("Content-Type", PoolStatsRendering.prometheusContentType)],
            body: {
                let cluster = redis.clusterStatistics
                return rendering.prometheus(cluster?.totals ?? redis.statistics, cluster: cluster)
            }()
        )
    }
}
