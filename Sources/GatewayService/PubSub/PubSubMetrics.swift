import HTTPServer
import Prometheus

/// Counters and gauges of the event streams, rendered in `/pool/stats` (`pubsub`) and the
/// Prometheus text (`gateway_pubsub_*`).
final class PubSubMetrics: Sendable {
    private let received: CountedTotal
    private let delivered: CountedTotal
    private let dropped: CountedTotal
    private let skipped: CountedTotal
    private let resubscriptions: CountedTotal
    private let subscribersGauge: Gauge
    private let channelsGauge: Gauge
    private let patternsGauge: Gauge

    init(registry: PrometheusCollectorRegistry) {
        received = CountedTotal(registry, "gateway_pubsub_messages_received", "Messages Redis pushed to the subscription connection")
        delivered = CountedTotal(registry, "gateway_pubsub_messages_delivered", "Messages fanned out to event streams (one per stream)")
        dropped = CountedTotal(registry, "gateway_pubsub_subscribers_dropped", "Event streams closed because their consumer fell behind")
        skipped = CountedTotal(
            registry, "gateway_pubsub_messages_skipped",
            "Messages larger than a stream's buffer, sent as a `skipped` notice instead (once per message)")
        resubscriptions = CountedTotal(
            registry, "gateway_pubsub_resubscriptions",
            "Times the subscription connection was re-established and every subscription restored")
        subscribersGauge = registry.gauge("gateway_pubsub_subscribers", "Open event streams")
        channelsGauge = registry.gauge("gateway_pubsub_channels", "Channels subscribed in Redis")
        patternsGauge = registry.gauge("gateway_pubsub_patterns", "Patterns subscribed in Redis")
    }

    func messageReceived() { received.add() }

    func deliveredTo(_ streams: Int) { delivered.add(streams) }

    func droppedSlowConsumer() { dropped.add() }

    func messageSkipped() { skipped.add() }

    func resubscribed() { resubscriptions.add() }

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
        json.add("messages_received", received.value)
        json.add("messages_delivered", delivered.value)
        json.add("subscribers_dropped", dropped.value)
        json.add("messages_skipped", skipped.value)
        json.add("resubscriptions", resubscriptions.value)
        return json
    }
}
