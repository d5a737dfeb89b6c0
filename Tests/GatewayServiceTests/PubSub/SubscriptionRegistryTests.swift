import HTTPServer
import RedisClient
import Testing

@testable import GatewayService

/// The registry alone (no Redis, no HTTP): one Redis subscription per topic however many
/// listeners, `subscribe` notices only once Redis confirmed, unsubscribe when the last one leaves,
/// and gap / resubscribed across a lost connection.
@Suite struct SubscriptionRegistryTests {
    typealias Topic = SubscriptionRegistry.Topic

    func channel(_ name: String) -> Topic { Topic(kind: .channel, name: Array(name.utf8)) }
    func text(_ commands: [RedisCommand]) -> [String] {
        commands.map { $0.arguments.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") }
    }
    func text(_ notices: [SubscriptionRegistry.Notice]) -> [String] { notices.map { String(decoding: $0.bytes, as: UTF8.self) } }

    @Test func oneSubscriptionPerTopicAndNoticesOnlyAfterConfirmation() {
        var registry = SubscriptionRegistry()
        let first = HTTPStream(capacity: 1024), second = HTTPStream(capacity: 1024)
        let (a, commandsA, noticesA) = registry.add(first, topics: [channel("news"), channel("news"), channel("sport")], base64: false)
        #expect(text(commandsA) == ["SUBSCRIBE news", "SUBSCRIBE sport"], "duplicates asked once")
        #expect(noticesA.isEmpty, "nothing is announced before Redis confirms")
        let (_, commandsB, noticesB) = registry.add(second, topics: [channel("news")], base64: true)
        #expect(commandsB.isEmpty, "a second listener costs no Redis subscription")
        #expect(noticesB.isEmpty)
        #expect(registry.audience(of: channel("news")).isEmpty, "no messages before the confirmation")

        let confirmed = registry.confirmed(channel("news"))
        #expect(text(confirmed) == ["data: subscribe,news,1\n\n", "data: subscribe,bmV3cw==,1\n\n"])
        #expect(registry.audience(of: channel("news")).count == 2)
        #expect(text(registry.confirmed(channel("sport"))) == ["data: subscribe,sport,2\n\n"], "the count is per stream")
        #expect(registry.confirmed(channel("news")).isEmpty, "each stream hears of a topic once")

        #expect(text(registry.remove(a)) == ["UNSUBSCRIBE sport"], "news still has a listener")
        #expect(registry.topicCount(.channel) == 1 && registry.listenerCount == 1)
    }

    @Test func aLostConnectionIsAGapUntilEveryTopicOfTheStreamIsBack() {
        var registry = SubscriptionRegistry()
        let stream = HTTPStream(capacity: 1024)
        let pattern = Topic(kind: .pattern, name: Array("n*".utf8))
        _ = registry.add(stream, topics: [channel("news"), pattern], base64: false)
        _ = registry.confirmed(channel("news"))
        _ = registry.confirmed(pattern)

        let gap = registry.connectionLost()
        #expect(text(gap).count == 1 && text(gap)[0].hasPrefix("event: gap\ndata: gap,"))
        #expect(registry.connectionLost().isEmpty, "told once per gap")
        #expect(text(registry.resubscription()) == ["SUBSCRIBE news", "PSUBSCRIBE n*"])
        #expect(registry.confirmed(channel("news")).isEmpty, "no second subscribe notice, and one topic is still missing")
        let back = registry.confirmed(pattern)
        #expect(text(back).count == 1 && text(back)[0].hasPrefix("event: resubscribed\n"))
    }

    @Test func lineBreaksSpanDataLines() {
        let event = String(
            decoding: ServerSentEvent.data([Array("message".utf8), Array("c".utf8), Array("a\nb\r\nc\rd".utf8)]), as: UTF8.self)
        #expect(event == "data: message,c,a\ndata: b\ndata: c\ndata: d\n\n")
    }
}
