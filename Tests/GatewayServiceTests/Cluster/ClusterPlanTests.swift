import RedisClient
import TestSupport
import Testing

@testable import GatewayService

/// `ClusterPlan` alone: which parts a batch becomes, and how their replies merge back (key specs
/// from a real server's `COMMAND` reply).
@Suite struct ClusterPlanTests {
    static let keySpecs: CommandKeySpecs = {
        var options = RedisConnectionOptions()
        options.url = try! RedisURL(parsing: RedisServer.shared.url)
        let connection = try! RedisConnection.connect(options: options)
        defer { connection.close() }
        return try! CommandKeySpecs(commandReply: try! connection.send(RedisCommand("COMMAND")))
    }()

    func plan(_ commands: [[String]], primaries: Int = 3) throws -> ClusterPlan {
        try ClusterPlan(commands.map { RedisCommand($0[0], Array($0.dropFirst())) }, keySpecs: Self.keySpecs, primaryCount: primaries)
    }

    func bulk(_ text: String) -> RedisValue { .bulk(Array(text.utf8)) }

    // Keys in three different slots.
    let a = "{a}1"
    let b = "{b}1"
    let c = "{c}1"

    @Test func oneSlotCommandsStayWhole() throws {
        let plan = try plan([["GET", a], ["MGET", "{a}1", "{a}2"], ["RENAME", "{a}x", "{a}y"], ["PUBLISH", "ch", "m"], ["TIME"]])
        #expect(plan.parts.count == 5)
        if case .anyPrimary = plan.parts[4].target {} else { Issue.record("TIME has no keys: any primary") }
        #expect(plan.parts[0].target == .slot(HashSlot.of(a)))
        #expect(plan.parts[1].command.arguments.count == 3, "MGET in one slot is not split")
        #expect(plan.parts[3].target == .slot(HashSlot.of("ch")), "one channel, one node: its messages stay in order")
        let replies: [RedisValue] = [bulk("1"), .array([bulk("x"), .null]), .status("OK"), .integer(2), .array([bulk("1"), bulk("2")])]
        #expect(try plan.merged(replies) == replies)
    }

    @Test func mgetSplitsBySlotAndMergesInKeyOrder() throws {
        let plan = try plan([["MGET", a, b, "{a}2", c]])
        #expect(plan.parts.map(\.command.arguments.count) == [3, 2, 2], "MGET {a}1 {a}2 / MGET {b}1 / MGET {c}1")
        #expect(plan.parts.map(\.target) == [.slot(HashSlot.of(a)), .slot(HashSlot.of(b)), .slot(HashSlot.of(c))])
        let merged = try plan.merged([.array([bulk("a1"), bulk("a2")]), .array([.null]), .array([bulk("c1")])])
        #expect(merged == [.array([bulk("a1"), .null, bulk("a2"), bulk("c1")])])
        let failed = try plan.merged([.array([bulk("a1"), bulk("a2")]), .error("ERR boom"), .array([bulk("c1")])])
        #expect(failed == [.error("ERR boom")], "a part's error is the command's reply")
    }

    @Test func msetKeepsPairsAndCountsAreSummed() throws {
        let plan = try plan([["MSET", a, "1", b, "2", "{a}2", "3"], ["DEL", a, b, c], ["EXISTS", a, a, b]])
        #expect(plan.parts[0].command.arguments.map { String(decoding: $0, as: UTF8.self) } == ["MSET", a, "1", "{a}2", "3"])
        #expect(plan.parts[1].command.arguments.map { String(decoding: $0, as: UTF8.self) } == ["MSET", b, "2"])
        #expect(plan.parts.count == 2 + 3 + 2)
        let merged = try plan.merged([
            .status("OK"), .status("OK"), .integer(1), .integer(0), .integer(1), .integer(2), .integer(1),
        ])
        #expect(merged == [.status("OK"), .integer(2), .integer(3)])
    }

    @Test func crossSlotCommandsAndTransactionsAreRefused() {
        #expect(throws: GatewayError.self) { try plan([["GET", a], ["SUNION", a, b]]) }
        #expect(throws: GatewayError.self) { try plan([["EVAL", "return 1", "2", a, b]]) }
        #expect(throws: GatewayError.self) {
            try ClusterPlan.commonSlot(of: [RedisCommand("SET", a, "1"), RedisCommand("SET", b, "1")], keySpecs: Self.keySpecs)
        }
        #expect(
            (try? ClusterPlan.commonSlot(of: [RedisCommand("SET", a, "1"), RedisCommand("INCR", "{a}2")], keySpecs: Self.keySpecs))
                == HashSlot.of(a))
        #expect((try? ClusterPlan.commonSlot(of: [RedisCommand("PING")], keySpecs: Self.keySpecs)) == .some(nil))
    }

    @Test func fanOutsMerge() throws {
        let plan = try plan([["DBSIZE"], ["KEYS", "*"], ["SCRIPT", "EXISTS", "x", "y"], ["PING"]], primaries: 2)
        #expect(
            plan.parts.map(\.target) == [
                .primary(0), .primary(1), .primary(0), .primary(1), .primary(0), .primary(1), .primary(0), .primary(1),
            ])
        let merged = try plan.merged([
            .integer(2), .integer(3), .array([bulk("k1")]), .array([bulk("k2"), bulk("k3")]),
            .array([.integer(1), .integer(1)]), .array([.integer(1), .integer(0)]), .status("PONG"), .status("PONG"),
        ])
        #expect(
            merged == [.integer(5), .array([bulk("k1"), bulk("k2"), bulk("k3")]), .array([.integer(1), .integer(0)]), .status("PONG")])
    }

    @Test func scanWalksThePrimariesInOrder() throws {
        let first = try plan([["SCAN", "0", "COUNT", "10"]], primaries: 3)
        #expect(first.parts[0].target == .primary(0))
        #expect(try first.merged([.array([bulk("17"), .array([bulk("k")])])]) == [.array([bulk("17000"), .array([bulk("k")])])])
        #expect(try first.merged([.array([bulk("0"), .array([])])]) == [.array([bulk("1"), .array([])])], "node 0 done: node 1 next")
        let middle = try plan([["SCAN", "17001"]], primaries: 3)
        #expect(middle.parts[0].target == .primary(1))
        #expect(middle.parts[0].command.arguments[1] == Array("17".utf8))
        let last = try plan([["SCAN", "2"]], primaries: 3)
        #expect(try last.merged([.array([bulk("0"), .array([])])]) == [.array([bulk("0"), .array([])])], "the last node done: 0")
        #expect(throws: GatewayError.self) { try plan([["SCAN", "5"]], primaries: 3) }
    }
}
