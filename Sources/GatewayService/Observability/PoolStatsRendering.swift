import ConnectionPool
import CoreUtilities
import HTTPServer
import Prometheus
import Synchronization

/// Renders the pool's statistics as JSON (`/pool/stats`) or Prometheus text (`/metrics`).
struct PoolStatsRendering: Sendable {
    /// Every Prometheus series of the gateway.
    let registry: PrometheusCollectorRegistry
    /// The pool's metrics (on a cluster, the totals' summaries; its series are not in `registry`).
    let metrics: PoolMetrics
    let session: SessionMetrics
    let pubsub: PubSubHub
    /// What the pool's protections did (connections refused, requests timed out, scripts killed).
    let protection: ProtectionMetrics
    /// The pool's configured `minIdle` (the idle-min gauge).
    let minIdle: Int

    /// The content type of the Prometheus text exposition format.
    static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The Prometheus text: gauges set from `statistics`, then every registered metric.
    func prometheus(_ statistics: PoolStatistics, cluster: ClusterStatistics? = nil) -> [UInt8] {
        for node in cluster?.nodes ?? [] { setGauges(node.metrics, node.statistics) }
        setGauges(metrics, statistics)
        _ = pubsub.statistics()  // sets the gateway_pubsub_* gauges
        protection.refresh()
        return registry.emitToBuffer()
    }

    private func setGauges(_ metrics: PoolMetrics, _ statistics: PoolStatistics) {
        metrics.idleGauge.set(to: Double(statistics.idle))
        metrics.usedGauge.set(to: Double(statistics.inUse))
        metrics.maxGauge.set(to: Double(statistics.maxConnections))
        metrics.idleMinGauge.set(to: Double(minIdle))
        if case .up = statistics.availability { metrics.upGauge.set(to: 1) } else { metrics.upGauge.set(to: 0) }
        metrics.stalledGauge.set(to: statistics.stalledSince == nil ? 0 : 1)
        metrics.pendingGauge.set(to: Double(statistics.waiting))
        metrics.leasesGauge.set(to: Double(statistics.leasesInUse))
        metrics.sharedGauge.set(to: Double(statistics.sharedConnections))
    }

    /// The JSON document of `/pool/stats`.
    func json(_ statistics: PoolStatistics, cluster: ClusterStatistics? = nil, now: PoolInstant = .now()) -> JSONObject {
        var json = poolMembers(statistics, metrics, now: now)
        if let cluster {
            var members = JSONObject()
            members.add("uncovered_slots", cluster.uncoveredSlots)
            members.add("layout_refreshes", cluster.refreshes)
            members.add("last_refresh_error", optionalString: cluster.lastRefreshError)
            members.add("nodes", objects: cluster.nodes.map { poolMembers($0.statistics, $0.metrics, now: now) })
            json.add("cluster", object: members)
        }
        json.add("session_cache", object: session.json)
        json.add("pubsub", object: pubsub.statistics())
        json.add("protection", object: protection.json)
        return json
    }

    /// One pool's members: its name, availability, gauges, counters and timing summaries.
    private func poolMembers(_ statistics: PoolStatistics, _ metrics: PoolMetrics, now: PoolInstant) -> JSONObject {
        var json = JSONObject(capacity: 1024)
        json.add("pool", string: metrics.poolName)
        json.merge(PoolAvailabilityRendering.members(statistics.availability, now: now))
        json.add("max", statistics.maxConnections)
        json.add("min_idle", minIdle)
        json.add("open", statistics.open)
        json.add("idle", statistics.idle)
        json.add("in_use", statistics.inUse)
        json.add("shared_connections", statistics.sharedConnections)
        json.add("leases_in_use", statistics.leasesInUse)
        json.add("connecting", statistics.connecting)
        json.add("waiting", statistics.waiting)
        json.add("borrows", statistics.borrows)
        json.add("wait_timeouts", statistics.waitTimeouts)
        json.add("connects", statistics.connects)
        json.add("connect_failures", statistics.connectFailures)
        json.add("discarded", statistics.discarded)
        json.add("health_check_failures", statistics.healthCheckFailures)
        var closed = JSONObject()
        for reason in ConnectionCloseReason.allCases { closed.add(reason.rawValue, statistics.closed[reason, default: 0]) }
        json.add("closed", object: closed)
        json.add("last_connect_error", optionalString: statistics.lastConnectError)
        json.add("outages", statistics.outages)
        json.add("recoveries", statistics.recoveries)
        json.add("probes", statistics.probes)
        let ongoingOutage: Double
        if case .down(let since, _) = statistics.availability {
            ongoingOutage = now.duration(since: since).secondsDouble
        } else {
            ongoingOutage = 0
        }
        json.add("outage_seconds", statistics.outageSeconds + ongoingOutage)
        json.add("stalled", statistics.stalledSince != nil)
        json.add("stalls", statistics.stalls)
        json.add("stall_seconds", statistics.stallSeconds + (statistics.stalledSince.map { now.duration(since: $0).secondsDouble } ?? 0))
        json.add("fast_failures", statistics.fastFailures)
        json.add("leaks_detected", statistics.leaksDetected)
        json.add("wait_time", object: summary(metrics.waitSummary.withLock { $0 }))
        json.add("use_time", object: summary(metrics.useSummary.withLock { $0 }))
        json.add("create_time", object: summary(metrics.createSummary.withLock { $0 }))
        return json
    }

    private func summary(_ summary: DurationSummary) -> JSONObject {
        var json = JSONObject()
        json.add("count", summary.count)
        json.add("sum_seconds", summary.sum.secondsDouble)
        json.add("max_seconds", summary.max.secondsDouble)
        return json
    }
}
