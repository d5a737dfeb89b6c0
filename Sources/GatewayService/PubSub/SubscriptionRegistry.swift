import HTTPServer
import RedisClient

/// Who listens to what: every open event stream and the channels and patterns it follows, and for
/// each channel or pattern whether Redis has confirmed the gateway's subscription to it.
///
/// The gateway subscribes in Redis when a channel's first listener arrives and unsubscribes when
/// its last one leaves, so 10,000 listeners on one channel cost one Redis subscription. A listener
/// is told `subscribe,<channel>,<count>` once Redis confirmed the channel (at once when it already
/// had): from then on it receives every message published to it.
///
/// A value type without locks: `PubSubHub` holds it under its lock and carries out what each
/// change returns (commands for Redis, notices for streams).
struct SubscriptionRegistry {
    /// A channel (`SUBSCRIBE`) or a pattern (`PSUBSCRIBE`).
    struct Topic: Hashable, Sendable {
        enum Kind: Sendable {
            case channel, pattern
        }

        var kind: Kind
        var name: [UInt8]

        var subscribeCommand: String { kind == .channel ? "SUBSCRIBE" : "PSUBSCRIBE" }
        var unsubscribeCommand: String { kind == .channel ? "UNSUBSCRIBE" : "PUNSUBSCRIBE" }
        var confirmationName: String { kind == .channel ? "subscribe" : "psubscribe" }
    }

    typealias ListenerID = Int

    /// One open event stream.
    struct Listener {
        let stream: HTTPStream
        /// Its channels and patterns, in the order asked.
        let topics: [Topic]
        /// Payloads and names base64-encoded (`Upstash-Encoding: base64`).
        let base64: Bool
        /// The topics it has been told `subscribe`/`psubscribe` for.
        var announced: Set<Topic> = []
        /// Told the subscription connection was lost, not yet told it is back.
        var inGap = false
    }

    /// Bytes for one stream.
    struct Notice {
        let stream: HTTPStream
        let bytes: [UInt8]
    }

    private struct Entry {
        var listeners: Set<ListenerID> = []
        var confirmed = false
    }

    private(set) var listeners: [ListenerID: Listener] = [:]
    private var entries: [Topic: Entry] = [:]
    private var nextID: ListenerID = 0

    /// Open streams.
    var listenerCount: Int { listeners.count }
    /// Channels (or patterns) with at least one listener.
    func topicCount(_ kind: Topic.Kind) -> Int { entries.keys.lazy.filter { $0.kind == kind }.count }

    /// Registers a stream for `topics` (duplicates ignored): the commands that subscribe Redis to
    /// the topics nobody listened to yet, and the notices for the topics Redis already confirmed.
    mutating func add(_ stream: HTTPStream, topics: [Topic], base64: Bool) -> (ListenerID, [RedisCommand], [Notice]) {
        var unique: [Topic] = []
        for topic in topics where !unique.contains(topic) { unique.append(topic) }
        let id = nextID
        nextID += 1
        listeners[id] = Listener(stream: stream, topics: unique, base64: base64)
        var commands: [RedisCommand] = []
        var notices: [Notice] = []
        for topic in unique {
            var entry = entries[topic] ?? Entry()
            if entry.listeners.isEmpty, !entry.confirmed {
                commands.append(RedisCommand(arguments: [Array(topic.subscribeCommand.utf8), topic.name]))
            }
            entry.listeners.insert(id)
            entries[topic] = entry
            if entry.confirmed, let notice = announce(topic, to: id) { notices.append(notice) }
        }
        return (id, commands, notices)
    }

    /// Forgets a stream: the commands that unsubscribe Redis from the topics it was the last listener of.
    mutating func remove(_ id: ListenerID) -> [RedisCommand] {
        guard let listener = listeners.removeValue(forKey: id) else { return [] }
        var commands: [RedisCommand] = []
        for topic in listener.topics {
            guard var entry = entries[topic] else { continue }
            entry.listeners.remove(id)
            if entry.listeners.isEmpty {
                entries[topic] = nil
                commands.append(RedisCommand(arguments: [Array(topic.unsubscribeCommand.utf8), topic.name]))
            } else {
                entries[topic] = entry
            }
        }
        return commands
    }

    /// Redis confirmed a subscription: each listener not yet told hears of it, and a listener back
    /// from a gap with all its topics confirmed again hears that too.
    mutating func confirmed(_ topic: Topic) -> [Notice] {
        guard var entry = entries[topic] else { return [] }
        entry.confirmed = true
        entries[topic] = entry
        var notices: [Notice] = []
        for id in entry.listeners.sorted() {
            if let notice = announce(topic, to: id) { notices.append(notice) }
            guard var listener = listeners[id], listener.inGap,
                listener.topics.allSatisfy({ entries[$0]?.confirmed == true })
            else { continue }
            listener.inGap = false
            listeners[id] = listener
            notices.append(Notice(stream: listener.stream, bytes: Self.resubscribedNotice))
        }
        return notices
    }

    /// The connection to Redis broke: nothing is confirmed any more, and every listener is told
    /// messages may be missed until its subscriptions are back.
    mutating func connectionLost() -> [Notice] {
        for topic in entries.keys { entries[topic]?.confirmed = false }
        var notices: [Notice] = []
        for id in listeners.keys.sorted() {
            guard var listener = listeners[id], !listener.inGap else { continue }
            listener.inGap = true
            listeners[id] = listener
            notices.append(Notice(stream: listener.stream, bytes: Self.gapNotice))
        }
        return notices
    }

    /// What a new connection sends to follow every topic someone listens to: one `SUBSCRIBE` and
    /// one `PSUBSCRIBE`, naming the topics in the order listeners asked for them (so a stream's
    /// `subscribe` events keep its path's order).
    func resubscription() -> [RedisCommand] {
        var ordered: [Topic] = []
        var seen: Set<Topic> = []
        for id in listeners.keys.sorted() {
            for topic in listeners[id]!.topics where seen.insert(topic).inserted { ordered.append(topic) }
        }
        var commands: [RedisCommand] = []
        for kind in [Topic.Kind.channel, .pattern] {
            let names = ordered.filter { $0.kind == kind }.map(\.name)
            guard let first = names.first else { continue }
            let command = Topic(kind: kind, name: first).subscribeCommand
            commands.append(RedisCommand(arguments: [Array(command.utf8)] + names))
        }
        return commands
    }

    /// The streams that receive a message for `topic` (none before Redis confirmed it), each with
    /// whether it wants base64.
    func audience(of topic: Topic) -> [(stream: HTTPStream, base64: Bool)] {
        guard let entry = entries[topic], entry.confirmed else { return [] }
        return entry.listeners.compactMap { id in listeners[id].map { ($0.stream, $0.base64) } }
    }

    /// Every open stream.
    var streams: [HTTPStream] { listeners.values.map(\.stream) }

    private mutating func announce(_ topic: Topic, to id: ListenerID) -> Notice? {
        guard var listener = listeners[id], !listener.announced.contains(topic) else { return nil }
        listener.announced.insert(topic)
        listeners[id] = listener
        let name = listener.base64 ? ServerSentEvent.base64(topic.name) : topic.name
        let count = Array(String(listener.announced.count).utf8)
        return Notice(stream: listener.stream, bytes: ServerSentEvent.data([Array(topic.confirmationName.utf8), name, count]))
    }

    /// Sent when the subscription connection broke.
    static let gapNotice = ServerSentEvent.named(
        "gap",
        [Array("gap".utf8), Array("the subscription connection to Redis was lost; messages published until it is back are missed".utf8)])
    /// Sent when every subscription of a stream is confirmed again after a gap.
    static let resubscribedNotice = ServerSentEvent.named(
        "resubscribed", [Array("resubscribed".utf8), Array("subscriptions restored; messages flow again".utf8)])
}
