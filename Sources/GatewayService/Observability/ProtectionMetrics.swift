import HTTPServer
import Prometheus
import Synchronization

/// What the shared pool's protections did, for SREs: connections refused over the connection
/// limit, requests closed (408) for not arriving in time, scripts killed for outliving their
/// request. Rendered in `/pool/stats` (`protection`) and as `gateway_*_total` counters.
///
/// The HTTP layer keeps its two counts itself (in the C shim); they are read when the statistics
/// are rendered and the difference added here, so the counters only ever go up.
final class ProtectionMetrics: Sendable {
    private let refused: CountedTotal
    private let timedOut: CountedTotal
    private let killed: CountedTotal
    /// The HTTP layer's counts, once the server is started.
    private let source = Mutex<(@Sendable () -> (refused: Int, timedOut: Int))?>(nil)
    private let seen = Mutex<(refused: Int, timedOut: Int)>((0, 0))

    init(registry: PrometheusCollectorRegistry) {
        refused = CountedTotal(
            registry, "gateway_http_connections_refused", "Connections answered 503 and closed because GATEWAY_CONNECTION_LIMIT was reached"
        )
        timedOut = CountedTotal(
            registry, "gateway_http_requests_timed_out",
            "Requests answered 408 and closed: not arrived whole within GATEWAY_REQUEST_TIMEOUT_MS")
        killed = CountedTotal(
            registry, "gateway_scripts_killed", "Scripts killed (SCRIPT KILL / FUNCTION KILL) for outliving their request")
    }

    /// Where the HTTP layer's counts are read from.
    func readHTTPCounts(_ counts: @escaping @Sendable () -> (refused: Int, timedOut: Int)) {
        source.withLock { $0 = counts }
    }

    /// A script was killed.
    func scriptKilled() { killed.add() }

    /// Brings the HTTP counters up to the HTTP layer's counts.
    func refresh() {
        guard let counts = source.withLock({ $0 })?() else { return }
        let (newRefused, newTimedOut) = seen.withLock { seen -> (Int, Int) in
            defer { seen = counts }
            return (max(0, counts.refused - seen.refused), max(0, counts.timedOut - seen.timedOut))
        }
        if newRefused > 0 { refused.add(newRefused) }
        if newTimedOut > 0 { timedOut.add(newTimedOut) }
    }

    /// The counts as `/pool/stats` shows them.
    var json: JSONObject {
        refresh()
        var json = JSONObject()
        json.add("connections_refused", refused.value)
        json.add("requests_timed_out", timedOut.value)
        json.add("scripts_killed", killed.value)
        return json
    }
}
