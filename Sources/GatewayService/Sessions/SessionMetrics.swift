import HTTPServer
import Prometheus
import Synchronization

/// Counters of the session cache: hits, misses, database reads, single-flight joins; rendered in
/// `/pool/stats` and the Prometheus text.
final class SessionMetrics: Sendable {
    let hits = Atomic<Int>(0)
    let misses = Atomic<Int>(0)
    let databaseReads = Atomic<Int>(0)
    let singleFlightJoins = Atomic<Int>(0)
    private let hitsCounter: Counter
    private let missesCounter: Counter
    private let readsCounter: Counter
    private let joinsCounter: Counter

    init(registry: PrometheusCollectorRegistry) {
        hitsCounter = registry.makeCounter(
            descriptor: .init(metricName: "gateway_session_cache_hits", unitName: "total", helpText: "GET /api/data served from Redis"))
        missesCounter = registry.makeCounter(
            descriptor: .init(metricName: "gateway_session_cache_misses", unitName: "total", helpText: "GET /api/data not in Redis"))
        readsCounter = registry.makeCounter(
            descriptor: .init(metricName: "gateway_session_database_reads", unitName: "total", helpText: "Reads of the origin database"))
        joinsCounter = registry.makeCounter(
            descriptor: .init(
                metricName: "gateway_session_single_flight_joins", unitName: "total",
                helpText: "Misses that waited for another request's database read"))
    }

    func hit() {
        hits.add(1, ordering: .relaxed)
        hitsCounter.increment()
    }

    func miss() {
        misses.add(1, ordering: .relaxed)
        missesCounter.increment()
    }

    func databaseRead() {
        databaseReads.add(1, ordering: .relaxed)
        readsCounter.increment()
    }

    func joined() {
        singleFlightJoins.add(1, ordering: .relaxed)
        joinsCounter.increment()
    }

    /// The counters as a JSON object.
    var json: JSONObject {
        let hits = hits.load(ordering: .relaxed), misses = misses.load(ordering: .relaxed)
        var json = JSONObject()
        json.add("hits", hits)
        json.add("misses", misses)
        json.add("hit_ratio", hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses))
        json.add("database_reads", databaseReads.load(ordering: .relaxed))
        json.add("single_flight_joins", singleFlightJoins.load(ordering: .relaxed))
        return json
    }
}
