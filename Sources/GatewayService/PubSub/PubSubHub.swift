import HTTPServer
import Logging
import RedisClient
import Synchronization

/// Pub/sub over HTTP: every event stream shares the one subscription connection (`SubscriberLink`);
/// each message Redis pushes is formatted once and queued to every stream listening to its channel
/// or pattern.
///
/// Bounded: at most `maxSubscribers` streams, each holding at most `bufferBytes` unsent; a consumer
/// that falls further behind gets a final `dropped` event and its stream ends, without slowing the
/// others. When the subscription connection breaks, every stream gets a `gap` event, the link
/// reconnects and resubscribes, and each stream gets `resubscribed` once its subscriptions are back.
///
/// Threading: any thread. Lifecycle: the link starts with the first stream; `shutdown()` ends every
/// stream with a final event and stops the link.
final class PubSubHub: Sendable {
    typealias Topic = SubscriptionRegistry.Topic

    private let registry = Mutex(SubscriptionRegistry())
    private let link: SubscriberLink
    private let configuration: PubSubConfiguration
    private let metrics: PubSubMetrics
    private let logger: Logger
    private let closed = Atomic<Bool>(false)
    /// Whether the link has been connected before (a later connection is a resubscription).
    private let everConnected = Atomic<Bool>(false)
    /// Whether the last report was a loss (losses are logged once, not per reconnect attempt).
    private let down = Atomic<Bool>(false)

    init(
        configuration: PubSubConfiguration, metrics: PubSubMetrics, logger: Logger, backoff: Duration, backoffCap: Duration,
        connect: @escaping @Sendable () throws -> RedisConnection
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        let handlers = HandlersBox()
        self.link = SubscriberLink(
            heartbeat: configuration.heartbeat, backoff: backoff, backoffCap: backoffCap,
            handlers: SubscriberLink.Handlers(
                connected: { handlers.hub?.connected() ?? [] },
                received: { handlers.hub?.received($0) },
                lost: { handlers.hub?.lost($0) },
                tick: { handlers.hub?.tick() }),
            connect: connect)
        handlers.hub = self
    }

    /// Opens an event stream following `topics`; 503 when the cap is reached, the subscription
    /// connection is known down, or the gateway is shutting down.
    func open(_ topics: [Topic], base64: Bool) throws(GatewayError) -> HTTPStream {
        if closed.load(ordering: .relaxed) { throw .subscriptionsUnavailable("the gateway is shutting down") }
        if case .down(let reason) = link.state {
            throw .subscriptionsUnavailable("the subscription connection to Redis is down: \(reason)")
        }
        let stream = HTTPStream(capacity: configuration.bufferBytes)
        let limit = configuration.maxSubscribers
        let opened: (SubscriptionRegistry.ListenerID, [SubscriptionRegistry.Notice])? = registry.withLock { registry in
            guard registry.listenerCount < limit else { return nil }
            let (id, commands, notices) = registry.add(stream, topics: topics, base64: base64)
            link.enqueue(commands)
            return (id, notices)
        }
        guard let (id, notices) = opened else {
            throw .subscriptionsUnavailable("too many subscribers: this gateway serves at most \(limit) event streams")
        }
        link.startIfNeeded()
        deliver(notices)
        stream.onClose { [self] in leave(id) }
        return stream
    }

    /// Ends every stream with a final `shutdown` event and stops the subscription connection.
    func shutdown() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for stream in registry.withLock({ $0.streams }) { stream.finish(with: Self.shutdownNotice) }
        link.stop()
    }

    /// Reconnects the subscription connection (the master moved).
    func masterMoved() {
        link.reconnect()
    }

    /// The statistics object of `/pool/stats`, and the Prometheus gauges set from the same counts.
    func statistics() -> JSONObject {
        let (subscribers, channels, patterns) = registry.withLock { ($0.listenerCount, $0.topicCount(.channel), $0.topicCount(.pattern)) }
        metrics.set(subscribers: subscribers, channels: channels, patterns: patterns)
        let connection: String
        switch link.state {
        case .idle: connection = "idle"
        case .connecting: connection = "connecting"
        case .connected: connection = "connected"
        case .down: connection = "down"
        }
        return metrics.json(subscribers: subscribers, channels: channels, patterns: patterns, connection: connection)
    }

    // MARK: The link's reports

    private func leave(_ id: SubscriptionRegistry.ListenerID) {
        registry.withLock { registry in link.enqueue(registry.remove(id)) }
    }

    private func connected() -> [RedisCommand] {
        let commands = registry.withLock { registry in
            link.discardQueued()
            return registry.resubscription()
        }
        if everConnected.exchange(true, ordering: .relaxed) { metrics.resubscribed() }
        if down.exchange(false, ordering: .relaxed) {
            logger.notice("the subscription connection to Redis is back; resubscribing", metadata: ["subscriptions": "\(commands.count)"])
        }
        return commands
    }

    private func lost(_ reason: String) {
        if !down.exchange(true, ordering: .relaxed) {
            logger.warning("the subscription connection to Redis is lost; reconnecting", metadata: ["reason": "\(reason)"])
        }
        deliver(registry.withLock { $0.connectionLost() })
    }

    private func tick() {
        for stream in registry.withLock({ $0.streams }) { push(ServerSentEvent.heartbeat, to: stream) }
    }

    /// Handles what one read brought, in order. Messages are gathered per stream and queued once
    /// per stream per read: when Redis pushes faster than streams drain, each stream is woken once
    /// for many messages instead of once per message.
    private func received(_ replies: [RedisValue]) {
        var batch = Batch()
        for reply in replies {
            guard case .array(let parts) = reply, let kind = parts.first?.bytes else {
                if let message = reply.errorMessage { logger.warning("Redis refused a subscription", metadata: ["error": "\(message)"]) }
                continue
            }
            switch (String(decoding: kind, as: UTF8.self), parts.count) {
            case ("message", 3):
                guard let channel = parts[1].bytes else { continue }
                // A nil payload: the message was larger than the reply budget and was read through unbuilt.
                let payload = parts[2].bytes ?? []
                gather(
                    Topic(kind: .channel, name: channel), fields: [kind, channel, payload], overBudget: parts[2].bytes == nil, into: &batch)
            case ("pmessage", 4):
                guard let pattern = parts[1].bytes, let channel = parts[2].bytes else { continue }
                let payload = parts[3].bytes ?? []
                gather(
                    Topic(kind: .pattern, name: pattern), fields: [kind, pattern, channel, payload], overBudget: parts[3].bytes == nil,
                    into: &batch)
            case ("subscribe", 3), ("psubscribe", 3):
                guard let name = parts[1].bytes else { continue }
                flush(&batch)  // messages before the confirmation go first
                let topic = Topic(kind: kind.first == UInt8(ascii: "p") ? .pattern : .channel, name: name)
                deliver(registry.withLock { $0.confirmed(topic) })
            default:
                continue  // unsubscribe confirmations
            }
        }
        flush(&batch)
    }

    /// Messages of one read, gathered per stream in arrival order.
    private struct Batch {
        var order: [HTTPStream] = []
        var bytes: [ObjectIdentifier: [UInt8]] = [:]
    }

    /// Formats a message once (and once more in base64 if a stream wants it) and adds it to the
    /// batch of every stream in its audience.
    private func gather(_ topic: Topic, fields: [[UInt8]], overBudget: Bool = false, into batch: inout Batch) {
        metrics.messageReceived()
        let audience = registry.withLock { $0.audience(of: topic) }
        guard !audience.isEmpty else { return }
        let plain = ServerSentEvent.data(fields)
        var encoded: [UInt8]?
        var skipped: [UInt8]?
        for (stream, base64) in audience {
            var event: [UInt8]
            if base64 {
                if encoded == nil { encoded = ServerSentEvent.data([fields[0]] + fields.dropFirst().map(ServerSentEvent.base64)) }
                event = encoded!
            } else {
                event = plain
            }
            if overBudget || event.count > stream.capacity {
                // No stream could ever hold it: a fast reader is not dropped for it, it is told.
                if skipped == nil {
                    let why =
                        overBudget
                        ? "a message larger than the gateway's reply budget (GATEWAY_MAX_REPLY_BYTES)"
                        : "a message of \(event.count) bytes, larger than the stream's buffer (GATEWAY_SSE_BUFFER_BYTES)"
                    skipped = ServerSentEvent.named("skipped", [Array("skipped".utf8)] + fields.dropFirst().dropLast() + [Array(why.utf8)])
                    metrics.messageSkipped()
                }
                event = skipped!
            }
            let id = ObjectIdentifier(stream)
            if batch.bytes[id] == nil {
                batch.order.append(stream)
                batch.bytes[id] = event
            } else {
                batch.bytes[id]!.append(contentsOf: event)
            }
        }
        metrics.deliveredTo(audience.count)
    }

    /// Queues each stream's gathered messages with one send.
    private func flush(_ batch: inout Batch) {
        for stream in batch.order {
            if let bytes = batch.bytes[ObjectIdentifier(stream)] { push(bytes, to: stream) }
        }
        batch = Batch()
    }

    private func deliver(_ notices: [SubscriptionRegistry.Notice]) {
        for notice in notices { push(notice.bytes, to: notice.stream) }
    }

    /// Queues `bytes`; a stream that cannot take them is dropped (told so, then ended).
    @discardableResult
    private func push(_ bytes: [UInt8], to stream: HTTPStream) -> Bool {
        switch stream.send(bytes) {
        case .queued:
            return true
        case .full:
            stream.finish(with: Self.droppedNotice)
            metrics.droppedSlowConsumer()
            return false
        case .closed:
            return false
        }
    }

    private static let droppedNotice = ServerSentEvent.named(
        "dropped", [Array("dropped".utf8), Array("this consumer fell too far behind; reconnect to subscribe again".utf8)])
    private static let shutdownNotice = ServerSentEvent.named(
        "shutdown", [Array("shutdown".utf8), Array("the gateway is shutting down; reconnect to subscribe again".utf8)])
}

/// Lets the link's handlers, made before the hub exists, reach it (weakly: the hub owns the link).
private final class HandlersBox: @unchecked Sendable {
    weak var hub: PubSubHub?
}
