import Prometheus
import Synchronization

/// A count kept twice, for the two views of the statistics: an atomic the JSON of `/pool/stats`
/// reads, and a Prometheus counter (`<name>_total`).
final class CountedTotal: Sendable {
    private let count = Atomic<Int>(0)
    private let counter: Counter

    init(_ registry: PrometheusCollectorRegistry, _ name: String, _ help: String) {
        counter = registry.counter(name, help)
    }

    /// Adds `amount` (1 by default) to both.
    func add(_ amount: Int = 1) {
        count.add(amount, ordering: .relaxed)
        counter.increment(by: Int64(amount))
    }

    /// The count so far.
    var value: Int { count.load(ordering: .relaxed) }
}
