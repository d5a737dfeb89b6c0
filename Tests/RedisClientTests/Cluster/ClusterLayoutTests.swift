import RedisClient
import Testing

@Suite struct ClusterLayoutTests {
    func bulk(_ text: String) -> RedisValue { .bulk(Array(text.utf8)) }

    func node(_ ip: String, _ port: Int64, _ role: String) -> RedisValue {
        .array([
            bulk("id"), bulk("abc"), bulk("port"), .integer(port), bulk("ip"), bulk(ip), bulk("endpoint"), bulk(ip),
            bulk("role"), bulk(role), bulk("health"), bulk("online"),
        ])
    }

    @Test func readsClusterShards() throws {
        let reply = RedisValue.array([
            .array([
                bulk("slots"), .array([.integer(0), .integer(100), .integer(200), .integer(300)]),
                bulk("nodes"), .array([node("10.0.0.2", 7002, "replica"), node("10.0.0.1", 7001, "master")]),
            ]),
            .array([bulk("slots"), .array([.integer(101), .integer(199)]), bulk("nodes"), .array([node("?", 7003, "master")])]),
            .array([bulk("slots"), .array([]), bulk("nodes"), .array([node("10.0.0.9", 7009, "master")])]),
        ])
        let layout = try ClusterLayout(shards: reply, fallbackHost: "seed")
        #expect(layout.ranges.count == 3)
        #expect(layout.ranges[0] == .init(slots: 0...100, primary: .init(host: "10.0.0.1", port: 7001)))
        #expect(layout.ranges[1] == .init(slots: 200...300, primary: .init(host: "10.0.0.1", port: 7001)))
        #expect(layout.ranges[2] == .init(slots: 101...199, primary: .init(host: "seed", port: 7003)), "'?' endpoint: the asked host")
        #expect(layout.coveredSlots == 301)
        #expect(layout.primaries == [.init(host: "10.0.0.1", port: 7001), .init(host: "seed", port: 7003)])
        #expect(throws: RedisError.self) { try ClusterLayout(shards: .integer(1), fallbackHost: "h") }
    }

    @Test func readsClusterSlots() throws {
        let reply = RedisValue.array([
            .array([
                .integer(0), .integer(8191), .array([bulk("127.0.0.1"), .integer(7001), bulk("id")]),
                .array([bulk("127.0.0.1"), .integer(7004)]),
            ]),
            .array([.integer(8192), .integer(16383), .array([bulk(""), .integer(7002)])]),
        ])
        let layout = try ClusterLayout(slots: reply, fallbackHost: "seed")
        #expect(
            layout.ranges == [
                .init(slots: 0...8191, primary: .init(host: "127.0.0.1", port: 7001)),
                .init(slots: 8192...16383, primary: .init(host: "seed", port: 7002)),
            ])
        #expect(layout.coveredSlots == 16384)
    }
}
