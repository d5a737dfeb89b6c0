import ConnectionPool
import CoreUtilities
import HTTPServer
import Prometheus
import Synchronization

/// Renders the pool's statistics as JSON (`/pool/stats`) or Prometheus text (`/metrics`).
struct PoolStatsRendering: Sendable {
    let metrics: PoolMetrics
    let session: SessionMetrics
    /// The pool's configured `minIdle` (the idle-min gauge).
    let minIdle: Int

    /// The content type of the Prometheus text exposition format.
    static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The Prometheus text: gauges set from `statistics`, then every registered metric.
    func prometheus(_ statistics: PoolStatistics) -> [UInt8] {
        metrics.idleGauge.set(to: Double(statistics.idle))
        metrics.usedGauge.set(to: Double(statistics.inUse))
        metrics.maxGauge.set(to: Double(statistics.maxConnections))
        metrics.idleMinGauge.set(to: Double(minIdle))
        if case .up = statistics.availability { metrics.upGauge.set(to: 1) } else { metrics.upGauge.set(to: 0) }
        metrics.stalledGauge.set(to: statistics.stalledSince == nil ? 0 : 1)
        metrics.pendingGauge.set(to: Double(statistics.waiting))
        return metrics.registry.emitToBuffer()
    }

    /// The JSON document of `/pool/stats`.
    func json(_ statistics: PoolStatistics) -> String {
        let closed = ConnectionCloseReason.allCases
            .map { JSONString.quote($0.rawValue) + ":" + String(statistics.closed[$0, default: 0]) }
            .joined(separator: ",")
        let lastError = statistics.lastConnectError.map(JSONString.quote) ?? "null"
        return """
            {"pool":\(JSONString.quote(metrics.poolName)),\(PoolAvailabilityRendering.members(statistics.availability)),\
            "max":\(statistics.maxConnections),"min_idle":\(minIdle),"open":\(statistics.open),"idle":\(statistics.idle),\
            "in_use":\(statistics.inUse),"connecting":\(statistics.connecting),"waiting":\(statistics.waiting),\
            "borrows":\(statistics.borrows),"wait_timeouts":\(statistics.waitTimeouts),\
            "connects":\(statistics.connects),"connect_failures":\(statistics.connectFailures),\
            "discarded":\(statistics.discarded),"health_check_failures":\(statistics.healthCheckFailures),\
            "closed":{\(closed)},"last_connect_error":\(lastError),\
            "outages":\(statistics.outages),"recoveries":\(statistics.recoveries),"probes":\(statistics.probes),\
            "outage_seconds":\(statistics.outageSeconds),"stalled":\(statistics.stalledSince != nil),\
            "stalls":\(statistics.stalls),"stall_seconds":\(statistics.stallSeconds),\
            "fast_failures":\(statistics.fastFailures),"leaks_detected":\(statistics.leaksDetected),\
            "wait_time":\(summary(metrics.waitSummary.withLock { $0 })),\
            "use_time":\(summary(metrics.useSummary.withLock { $0 })),\
            "create_time":\(summary(metrics.createSummary.withLock { $0 })),\
            "session_cache":\(session.json)}
            """
    }

    private func summary(_ summary: DurationSummary) -> String {
        #"{"count":\#(summary.count),"sum_seconds":\#(summary.sum.secondsDouble),"max_seconds":\#(summary.max.secondsDouble)}"#
    }
}
