public import ConnectionPool
import CoreUtilities
public import Prometheus
public import RedisClient
import Synchronization

/// The pool's timings and events as Prometheus metrics, named after the OpenTelemetry database
/// client semantic conventions (`db.client.connection.*`) in their Prometheus form.
///
/// Histograms are swift-prometheus bucket histograms: Prometheus needs cumulative buckets that can
/// be summed across gateway replicas (percentiles cannot). The JSON stats read the same events as
/// count / sum / max summaries.
///
/// Threading: the observer methods are called from every borrowing thread; all state is locked
/// or atomic.
public final class PoolMetrics: ConnectionPoolObserver {
    /// The registry the Prometheus text is rendered from.
    let registry: PrometheusCollectorRegistry
    let poolName: String

    private let waitTime: DurationHistogram
    private let useTime: DurationHistogram
    private let createTime: DurationHistogram
    private let timeouts: Counter
    private let created: Counter
    private let connectFailures: Counter
    private let closed: [ConnectionCloseReason: Counter]
    private let fastFailures: Counter
    private let outages: Counter
    private let outageSeconds: Counter
    private let stalls: Counter
    private let stallSeconds: Counter
    private let leaks: Counter
    private let resends: Counter
    private let masterChanges: Counter
    let upGauge: Gauge
    let stalledGauge: Gauge
    let idleGauge: Gauge
    let usedGauge: Gauge
    let maxGauge: Gauge
    let idleMinGauge: Gauge
    let pendingGauge: Gauge
    let leasesGauge: Gauge
    let sharedGauge: Gauge

    let waitSummary = Mutex(DurationSummary())
    let useSummary = Mutex(DurationSummary())
    let createSummary = Mutex(DurationSummary())

    /// Metrics for the pool named `poolName` (`host:port/db`).
    /// Series go to `registry` (one registry holds every cluster node's pool).
    public init(poolName: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.poolName = poolName
        self.registry = registry
        let pool = [("db_client_connection_pool_name", poolName)]
        let registry = self.registry
        func counter(_ name: String, _ help: String) -> Counter { registry.counter(name, help, labels: pool) }
        func gauge(_ name: String, _ help: String) -> Gauge { registry.gauge(name, help, labels: pool) }
        let buckets: [Duration] = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        ]
        waitTime = registry.makeDurationHistogram(
            descriptor: .init(
                metricName: "db_client_connection_wait_time", unitName: "seconds",
                helpText: "Time to obtain a connection from the pool (timeouts included)"), labels: pool, buckets: buckets)
        useTime = registry.makeDurationHistogram(
            descriptor: .init(
                metricName: "db_client_connection_use_time", unitName: "seconds",
                helpText: "Time between borrowing a connection and returning it"), labels: pool, buckets: buckets)
        createTime = registry.makeDurationHistogram(
            descriptor: .init(
                metricName: "db_client_connection_create_time", unitName: "seconds",
                helpText: "Time to open a new connection (connect and handshake)"), labels: pool, buckets: buckets)
        timeouts = counter("db_client_connection_timeouts", "Borrows that timed out waiting for a connection")
        created = counter("db_client_connection_created", "Connections opened")
        connectFailures = counter("db_client_connection_connect_failures", "Attempts to open a connection that failed")
        var closed: [ConnectionCloseReason: Counter] = [:]
        for reason in ConnectionCloseReason.allCases {
            closed[reason] = registry.makeCounter(
                descriptor: .init(metricName: "db_client_connection_closed", unitName: "total", helpText: "Connections closed, by reason"),
                labels: pool + [("reason", reason.rawValue)])
        }
        self.closed = closed
        fastFailures = counter(
            "redis_gateway_pool_fast_failures", "Borrows failed at once because Redis was down and no connection was idle")
        outages = counter("redis_gateway_pool_outages", "Times a failed connect marked Redis down")
        outageSeconds = counter(
            "redis_gateway_pool_outage_seconds", "Seconds Redis was down (refused, reset, unreachable), counted when each outage ends")
        stalls = counter("redis_gateway_pool_stalls", "Times Redis stopped answering in time on open connections (slow, not gone)")
        stallSeconds = counter("redis_gateway_pool_stall_seconds", "Seconds Redis was stalled, counted when each stall ends")
        stalledGauge = gauge("redis_gateway_pool_stalled", "1 while Redis is stalled (not answering in time), else 0")
        leaks = counter("redis_gateway_pool_leaks_detected", "Borrows held longer than the leak-detection threshold")
        resends = counter(
            "redis_gateway_redis_resends", "Requests re-sent on a fresh connection after a failure that made it safe to do so")
        masterChanges = counter(
            "redis_gateway_master_changes", "Times the gateway moved to a new Redis master (a Sentinel failover followed)")
        upGauge = gauge("redis_gateway_pool_up", "1 while Redis accepts connections, 0 while down")
        idleGauge = registry.makeGauge(
            descriptor: .init(metricName: "db_client_connection_usage", unitName: "", helpText: "Connections open now, by state"),
            labels: [("db_client_connection_state", "idle")] + pool)
        usedGauge = registry.makeGauge(
            descriptor: .init(metricName: "db_client_connection_usage", unitName: "", helpText: "Connections open now, by state"),
            labels: [("db_client_connection_state", "used")] + pool)
        maxGauge = gauge("db_client_connection_max", "Most connections the pool may open")
        idleMinGauge = gauge("db_client_connection_idle_min", "Idle connections the pool keeps open")
        pendingGauge = gauge("db_client_connection_pending_requests", "Borrowers waiting for a connection now")
        leasesGauge = gauge(
            "redis_gateway_pool_leases_in_use", "Requests holding a lease now (exclusive or shared; several shared ride one connection)")
        sharedGauge = gauge("redis_gateway_pool_shared_connections", "Connections carrying shared leases now")
    }

    public func borrowFinished(waited: Duration, outcome: BorrowOutcome) {
        waitTime.record(waited)
        waitSummary.withLock { $0.record(waited) }
        switch outcome {
        case .timedOut: timeouts.increment()
        case .unavailable: fastFailures.increment()
        case .succeeded, .shutDown: break
        }
    }

    public func connectionReturned(after duration: Duration) {
        useTime.record(duration)
        useSummary.withLock { $0.record(duration) }
    }

    public func connectionCreated(in duration: Duration) {
        createTime.record(duration)
        createSummary.withLock { $0.record(duration) }
        created.increment()
    }

    public func connectFailed(message: String) {
        connectFailures.increment()
    }

    public func connectionClosed(reason: ConnectionCloseReason) {
        closed[reason]?.increment()
    }

    public func poolWentDown(error: String) {
        outages.increment()
    }

    public func poolRecovered(after downtime: Duration) {
        outageSeconds.increment(by: downtime.secondsDouble)
    }

    public func stallBegan() {
        stalls.increment()
    }

    public func stallEnded(after duration: Duration) {
        stallSeconds.increment(by: duration.secondsDouble)
    }

    public func leakDetected(_ report: LeakReport) {
        leaks.increment()
    }

    /// The gateway moved to a new master (Sentinel announced it, or a request's suspicion confirmed it).
    func masterChanged() {
        masterChanges.increment()
    }

    /// A request was re-sent after `error` (the retry policy allowed it).
    public func resent(after error: RedisError) {
        resends.increment()
    }
}

/// Count, sum and maximum of recorded durations (the JSON view of a histogram).
struct DurationSummary: Sendable {
    private(set) var count = 0
    private(set) var sum: Duration = .zero
    private(set) var max: Duration = .zero

    mutating func record(_ duration: Duration) {
        count += 1
        sum += duration
        if duration > max { max = duration }
    }
}
