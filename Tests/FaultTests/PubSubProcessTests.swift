import Foundation
import LoadTesting
import TestSupport
import Testing

/// Event streams seen from outside the process: 1,000 open streams add no thread, and SIGTERM
/// gives every stream a final event and the process exits 0.
@Suite(.serialized) struct PubSubProcessTests {
    @Test(.timeLimit(.minutes(2)))
    func thousandStreamsAddNoThreadAndSigtermEndsThemAll() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(
            redisURL: redis.url, environment: ["GATEWAY_CONNECTION_LIMIT": "1200", "GATEWAY_MAX_SUBSCRIBERS": "1100"])
        func open() -> EventStreamClient? { EventStreamClient(port: gateway.port, target: "/subscribe/crowd") }
        guard let first = open() else {
            Issue.record("cannot connect")
            return
        }
        #expect(first.next() == "data: subscribe,crowd,1")
        let usage = ProcessUsage(pid: gateway.pid)
        let before = usage.sample()
        let streams = (0..<1000).compactMap { _ in open() }
        #expect(streams.count == 1000)
        for stream in streams { #expect(stream.next() == "data: subscribe,crowd,1") }
        let after = usage.sample()
        #expect(after.threads == before.threads, "1,000 open streams add no thread")
        let rssGrowth = after.residentKiB - before.residentKiB
        print("1,000 streams: threads \(before.threads), RSS +\(rssGrowth) kB")
        #expect(rssGrowth < 40_000, "1,000 idle streams cost \(rssGrowth) kB")
        #expect(redis.command(["PUBLISH", "crowd", "hello"]) == ":1", "one Redis subscription")
        for stream in streams + [first] { #expect(stream.next() == "data: message,crowd,hello") }
        #expect(gateway.terminate(within: .seconds(10)) == 0)
        for stream in streams + [first] {
            #expect(stream.remaining() == ["event: shutdown\ndata: shutdown,the gateway is shutting down; reconnect to subscribe again"])
        }
    }
}
