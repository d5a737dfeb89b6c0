import HTTPServer
import Prometheus
import Synchronization

/// Counters and gauges of the event streams, rendered in `/pool/stats` (`pubsub`) and the
/// Prometheus text (`gateway_pubsub_*`).
final class PubSubMetrics: Sendable {
    let received = Atomic<Int>(0)
    let delivered = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    let resubscriptions = Atomic<Int>(0)
    private let receivedCounter: Counter
    private let deliveredCounter: Counter
    private let droppedCounter: Counter
    private let resubscriptionsCounter: Counter
    private let subscribersGauge: Gauge
    private let channelsGauge: Gauge
    private let patternsGauge: Gauge

    init(registry: PrometheusCollectorRegistry) {
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: .init(metricName: name, unitName: "total", helpText: help))
        }
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: .init(metricName: name, unitName: "", helpText: help))
        }
        receivedCounter = counter("gateway_pubsub_messages_received", "Messages Redis pushed to the subscription connection")
        deliveredCounter = counter("gateway_pubsub_messages_delivered", "Messages fanned out to event streams (one per stream)")
        droppedCounter = counter("gateway_pubsub_subscribers_dropped", "Event streams closed because their consumer fell behind")
        resubscriptionsCounter = counter(
            "gateway_pubsub_resubscriptions", "Times the subscription connection was re-established and every subscription restored")
        subscribersGauge = gauge("gateway_pubsub_subscribers", "Open event streams")
        channelsGauge = gauge("gateway_pubsub_channels", "Channels subscribed in Redis")
        patternsGauge = gauge("gateway_pubsub_patterns", "Patterns subscribed in Redis")
    }

    func messageReceived() {
        received.add(1, ordering: .relaxed)
        receivedCounter.increment()
    }

    func deliveredTo(_ streams: Int) {
        delivered.add(streams, ordering: .relaxed)
        deliveredCounter.increment(by: Int64(streams))
    }

    func droppedSlowConsumer() {
        dropped.add(1, ordering: .relaxed)
        droppedCounter.increment()
    }

    func resubscribed() {
        resubscriptions.add(1, ordering: .relaxed)
        resubscriptionsCounter.increment()
    }

    /// Sets the gauges from a count of streams, channels and patterns.
    func set(subscribers: Int, channels: Int, patterns: Int) {
        subscribersGauge.set(to: Double(subscribers))
        channelsGauge.set(to: Double(channels))
        patternsGauge.set(to: Double(patterns))
    }

    /// The counters and `counts` as a JSON object.
    func json(subscribers: Int, channels: Int, patterns: Int, connection: String) -> JSONObject {
        var json = JSONObject()
        json.add("subscribers", subscribers)
        json.add("channels", channels)
        json.add("patterns", patterns)
        json.add("connection", string: connection)
        json.add("messages_received", received.load(ordering: .relaxed))
        json.add("messages_delivered", delivered.load(ordering: .relaxed))
        json.add("subscribers_dropped", dropped.load(ordering: .relaxed))
        json.add("resubscriptions", resubscriptions.load(ordering: .relaxed))
        return json
    }
}
