import Foundation
import LoadTesting
import TestSupport
import Testing

/// Event streams seen from outside the process: 1,000 open streams add no thread, and SIGTERM
/// gives every stream a final event and the process exits 0.
@Suite(.serialized) struct PubSubProcessTests {
    /// A field of `/proc/<pid>/status` (`Threads`, `VmRSS` in kB).
    func status(_ process: GatewayProcess, _ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8) else { return -1 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? -1
        }
        return -1
    }

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
        let threadsBefore = status(gateway, "Threads")
        let rssBefore = status(gateway, "VmRSS")
        let streams = (0..<1000).compactMap { _ in open() }
        #expect(streams.count == 1000)
        for stream in streams { #expect(stream.next() == "data: subscribe,crowd,1") }
        #expect(status(gateway, "Threads") == threadsBefore, "1,000 open streams add no thread")
        let rssGrowth = status(gateway, "VmRSS") - rssBefore
        print("1,000 streams: threads \(threadsBefore), RSS +\(rssGrowth) kB")
        #expect(rssGrowth < 40_000, "1,000 idle streams cost \(rssGrowth) kB")
        #expect(redis.command(["PUBLISH", "crowd", "hello"]) == ":1", "one Redis subscription")
        for stream in streams + [first] { #expect(stream.next() == "data: message,crowd,hello") }
        #expect(gateway.terminate(within: .seconds(10)) == 0)
        for stream in streams + [first] {
            #expect(stream.remaining() == ["event: shutdown\ndata: shutdown,the gateway is shutting down; reconnect to subscribe again"])
        }
    }
}
