import HTTPServer
import Prometheus

/// Counters of the session cache: hits, misses, database reads, single-flight joins; rendered in
/// `/pool/stats` and the Prometheus text.
final class SessionMetrics: Sendable {
    private let hits: CountedTotal
    private let misses: CountedTotal
    private let databaseReads: CountedTotal
    private let singleFlightJoins: CountedTotal

    init(registry: PrometheusCollectorRegistry) {
        hits = CountedTotal(registry, "gateway_session_cache_hits", "GET /api/data served from Redis")
        misses = CountedTotal(registry, "gateway_session_cache_misses", "GET /api/data not in Redis")
        databaseReads = CountedTotal(registry, "gateway_session_database_reads", "Reads of the origin database")
        singleFlightJoins = CountedTotal(
            registry, "gateway_session_single_flight_joins", "Misses that waited for another request's database read")
    }

    func hit() { hits.add() }

    func miss() { misses.add() }

    func databaseRead() { databaseReads.add() }

    func joined() { singleFlightJoins.add() }

    /// The counters as a JSON object.
    var json: JSONObject {
        let hits = hits.value, misses = misses.value
        var json = JSONObject()
        json.add("hits", hits)
        json.add("misses", misses)
        json.add("hit_ratio", hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses))
        json.add("database_reads", databaseReads.value)
        json.add("single_flight_joins", singleFlightJoins.value)
        return json
    }
}
