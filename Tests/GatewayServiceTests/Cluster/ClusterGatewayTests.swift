import Foundation
import GatewayService
import RedisClient
import TestSupport
import Testing

/// The gateway in front of a real 3-primary, 3-replica Redis Cluster: routing by slot, batches split
/// by node, cross-slot splits and refusals, fan-out, redirects (MOVED and ASK) and the session API.
@Suite(.serialized) struct ClusterGatewayTests {
    /// One cluster for the suite (keys are unique per test), stopped when the process exits.
    static let cluster: RedisClusterNodes = {
        do {
            let cluster = try RedisClusterNodes()
            atexit { ClusterGatewayTests.cluster.stop() }
            return cluster
        } catch {
            fatalError("cannot start the test cluster: \(error)")
        }
    }()

    let prefix = "c\(UInt32.random(in: 0..<UInt32.max)):"

    func harness() throws -> GatewayHarness {
        let harness = try GatewayHarness(redisURL: Self.cluster.url)
        #expect(eventually(within: .seconds(10)) { harness.request("GET", "/readyz").status == 200 })
        return harness
    }

    func json(_ response: TestResponse) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])
    }

    func result(_ response: TestResponse) -> Any? { (json(response) as? [String: Any])?["result"] }

    func command(_ harness: GatewayHarness, _ arguments: [String]) -> TestResponse {
        let body = try! JSONSerialization.data(withJSONObject: arguments)
        return harness.request("POST", "/", body: Array(body))
    }

    @Test func slotsAgreeWithTheNodes() {
        for key in ["a", "session:42", "{tag}x", "ключ", "x{y", "{}z", "\(prefix)k"] {
            #expect(Self.cluster.nodes[0].command(["CLUSTER", "KEYSLOT", key]) == ":\(HashSlot.of(key))", "\(key)")
        }
    }

    @Test func cacheAndCommandsReachKeysInEverySlotRange() throws {
        let harness = try harness()
        let keys = (0..<300).map { "\(prefix)k\($0)" }
        for key in keys {
            #expect(harness.request("PUT", "/cache/\(encoded(key))", text: "v-\(key)").status == 201)
        }
        for key in keys {
            let got = harness.request("GET", "/cache/\(encoded(key))")
            #expect(got.status == 200 && got.text.contains("\"v-\(key)\""), "\(key): \(got.text)")
        }
        for key in keys.prefix(50) {
            #expect(result(harness.request("POST", "/append/\(encoded(key))/x")) as? Int == "v-\(key)x".utf8.count)
        }
        // The keys landed on every primary, each on the node its slot belongs to.
        let primaries = Self.cluster.primaries
        #expect(primaries.count == 3)
        for primary in primaries {
            #expect((Int(primary.command(["DBSIZE"])?.dropFirst() ?? "") ?? 0) > 0)
        }
        for key in keys.prefix(20) {
            #expect(Self.cluster.primary(serving: key)?.command(["GET", key]) == "v-\(key)" + (keys.prefix(50).contains(key) ? "x" : ""))
        }
        #expect(harness.request("DELETE", "/cache/\(encoded(keys[0]))").status == 204)
        #expect(harness.request("GET", "/cache/\(encoded(keys[0]))").status == 404)
    }

    @Test func pipelineSpansNodesAndKeepsOrderAndPerCommandErrors() throws {
        let harness = try harness()
        var batch: [[String]] = []
        for index in 0..<60 { batch.append(["SET", "\(prefix)p\(index)", "\(index)"]) }
        batch.append(["LPUSH", "\(prefix)p7", "x"])  // WRONGTYPE on one node
        for index in 0..<60 { batch.append(["INCR", "\(prefix)p\(index)"]) }
        let body = try JSONSerialization.data(withJSONObject: batch)
        let response = harness.request("POST", "/pipeline", body: Array(body))
        #expect(response.status == 200)
        let entries = try #require(json(response) as? [[String: Any]])
        #expect(entries.count == 121)
        #expect(entries.prefix(60).allSatisfy { $0["result"] as? String == "OK" })
        #expect((entries[60]["error"] as? String)?.hasPrefix("WRONGTYPE") == true)
        for index in 0..<60 { #expect(entries[61 + index]["result"] as? Int == index + 1) }
    }

    @Test func multiKeyCommandsAcrossSlotsAreSplitAndMergedInOrder() throws {
        let harness = try harness()
        let keys = (0..<20).map { "\(prefix)m\($0)" }
        #expect(Set(keys.map(HashSlot.of)).count > 10)
        #expect(result(command(harness, ["MSET"] + keys.flatMap { [$0, "v\($0)"] })) as? String == "OK")
        let values = try #require(result(command(harness, ["MGET"] + keys + ["\(prefix)missing"])) as? [Any])
        #expect(values.count == 21)
        for (index, key) in keys.enumerated() { #expect(values[index] as? String == "v\(key)") }
        #expect(values[20] is NSNull)
        #expect(result(command(harness, ["EXISTS"] + keys + [keys[0], "\(prefix)missing"])) as? Int == 21)
        #expect(result(command(harness, ["TOUCH"] + keys)) as? Int == 20)
        #expect(result(command(harness, ["DEL"] + keys.prefix(15) + ["\(prefix)missing"])) as? Int == 15)
        #expect(result(command(harness, ["UNLINK"] + keys)) as? Int == 5)
        #expect(Self.cluster.primary(serving: keys[19])?.command(["EXISTS", keys[19]]) == ":0")
    }

    @Test func otherCrossSlotCommandsAndTransactionsAreRefusedBeforeSending() throws {
        let harness = try harness()
        let a = "\(prefix)a"
        let b = (0...).lazy.map { "\(prefix)b\($0)" }.first { HashSlot.of($0) != HashSlot.of(a) }!
        let refused = command(harness, ["RENAME", a, b])
        #expect(refused.status == 400)
        #expect(((json(refused) as? [String: Any])?["error"] as? String)?.hasPrefix("CROSSSLOT") == true, "\(refused.text)")
        let batch = try JSONSerialization.data(withJSONObject: [["SET", a, "1"], ["SET", b, "2"]])
        let transaction = harness.request("POST", "/multi-exec", body: Array(batch))
        #expect(transaction.status == 400 && transaction.text.contains("CROSSSLOT"), "\(transaction.text)")
        #expect(Self.cluster.primary(serving: a)?.command(["EXISTS", a]) == ":0", "nothing of the refused transaction ran")
        let pipeline = harness.request(
            "POST", "/pipeline", body: Array(try JSONSerialization.data(withJSONObject: [["SET", a, "1"], ["SUNION", a, b]])))
        #expect(pipeline.status == 400 && pipeline.text.contains("CROSSSLOT"))
        #expect(Self.cluster.primary(serving: a)?.command(["EXISTS", a]) == ":0", "a refused batch sends nothing")
        // With hash tags the keys share a slot: the transaction runs, atomically, on that node.
        let tagged = try JSONSerialization.data(withJSONObject: [
            ["SET", "{\(prefix)u}:x", "1"], ["INCR", "{\(prefix)u}:x"], ["RENAME", "{\(prefix)u}:x", "{\(prefix)u}:y"],
        ])
        let ran = harness.request("POST", "/multi-exec", body: Array(tagged))
        #expect(ran.status == 200, "\(ran.text)")
        #expect(Self.cluster.primary(serving: "{\(prefix)u}:y")?.command(["GET", "{\(prefix)u}:y"]) == "2")
    }

    @Test func fanOutScanVisitsEveryKeyExactlyOnceAndDbsizeAddsUp() throws {
        let harness = try harness()
        let keys = Set((0..<500).map { "\(prefix)s\($0)" })
        let body = try JSONSerialization.data(withJSONObject: ["MSET"] + keys.flatMap { [$0, "1"] })
        #expect(harness.request("POST", "/", body: Array(body)).status == 200)
        var seen: [String] = []
        var cursor = "0"
        var pages = 0
        repeat {
            let page = try #require(result(command(harness, ["SCAN", cursor, "MATCH", "\(prefix)s*", "COUNT", "40"])) as? [Any])
            cursor = try #require(page[0] as? String)
            #expect(Int(cursor) != nil, "the cursor stays a number: \(cursor)")
            seen += page[1] as? [String] ?? []
            pages += 1
        } while cursor != "0" && pages < 10_000
        #expect(seen.count == keys.count, "every key exactly once")
        #expect(Set(seen) == keys)
        let dbsize = result(command(harness, ["DBSIZE"])) as? Int
        #expect(dbsize == Self.cluster.keyCount())
        let found = try #require(result(command(harness, ["KEYS", "\(prefix)s1*"])) as? [String])
        #expect(Set(found) == keys.filter { $0.hasPrefix("\(prefix)s1") })
        #expect(result(command(harness, ["PING"])) as? String == "PONG")
        #expect(command(harness, ["SCAN", "not-a-cursor"]).status == 400)
    }

    @Test func scriptsAreLoadedEverywhereAndRunOnTheirKeysNode() throws {
        let harness = try harness()
        let sha = try #require(result(command(harness, ["SCRIPT", "LOAD", "return redis.call('INCR', KEYS[1])"])) as? String)
        let keys = (0..<10).map { "\(prefix)e\($0)" }
        for key in keys { #expect(result(command(harness, ["EVALSHA", sha, "1", key])) as? Int == 1) }
        #expect(result(command(harness, ["SCRIPT", "EXISTS", sha, String(repeating: "0", count: 40)])) as? [Int] == [1, 0])
        #expect(result(command(harness, ["EVAL", "return ARGV[1]", "0", "hi"])) as? String == "hi")
    }

    @Test func movedAndAskRedirectsAreFollowedWhileASlotMigrates() throws {
        let harness = try harness()
        // A slot no earlier test's key hashed to: handing a slot over (SETSLOT NODE) needs every key
        // of it moved, and this test moves only its own.
        let tag = try #require(
            (0..<200).lazy.map { "\(prefix)mig\($0)" }.first { tag in
                Self.cluster.primary(serving: "{\(tag)}")?.command(["CLUSTER", "COUNTKEYSINSLOT", String(HashSlot.of("{\(tag)}"))]) == ":0"
            })
        let existing = "{\(tag)}:old"
        let fresh = "{\(tag)}:new"
        let stayed = "{\(tag)}:stayed"
        #expect(harness.request("PUT", "/cache/\(encoded(existing))", text: "before").status == 201)
        #expect(harness.request("PUT", "/cache/\(encoded(stayed))", text: "s").status == 201)
        let slot = HashSlot.of(existing)
        let source = try #require(Self.cluster.primary(serving: existing))
        let target = try #require(Self.cluster.primaries.first { $0.port != source.port })
        let sourceID = try #require(source.command(["CLUSTER", "MYID"]))
        let targetID = try #require(target.command(["CLUSTER", "MYID"]))
        #expect(target.command(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID]) == "+OK")
        #expect(source.command(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID]) == "+OK")
        #expect(source.command(["MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS", existing]) == "+OK")
        // Mid-migration: the source answers ASK for keys it no longer (or never) had.
        let read = harness.request("GET", "/cache/\(encoded(existing))")
        #expect(read.status == 200 && read.text.contains("before"), "\(read.text)")
        #expect(harness.request("PUT", "/cache/\(encoded(fresh))", text: "during").status == 201)
        // Keys of one slot split between the two nodes: Redis answers TRYAGAIN; the gateway re-sends
        // after 50, 100 and 200 ms, then gives up with 503 (the command never ran).
        let clock = ContinuousClock()
        let started = clock.now
        let split = command(harness, ["MGET", existing, stayed])
        #expect(split.status == 503 && split.text.contains("TRYAGAIN"), "\(split.text)")
        #expect(clock.now - started >= .milliseconds(340), "three backed-off re-sends first")
        #expect(source.command(["MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS", stayed]) == "+OK")
        for node in Self.cluster.primaries {
            #expect(node.command(["CLUSTER", "SETSLOT", String(slot), "NODE", targetID]) == "+OK")
        }
        // The gateway still maps the slot to the source: it answers MOVED, the gateway follows.
        let refreshesBefore = clusterStats(harness)["layout_refreshes"] as? Int ?? 0
        #expect(harness.request("GET", "/cache/\(encoded(fresh))").text.contains("during"))
        #expect(harness.request("GET", "/cache/\(encoded(existing))").text.contains("before"))
        #expect(target.command(["CLUSTER", "COUNTKEYSINSLOT", String(slot)]) == ":3")
        #expect(eventually(within: .seconds(5)) { clusterStats(harness)["layout_refreshes"] as? Int ?? 0 > refreshesBefore })
    }

    @Test func readinessStatsAndMetricsNameEveryPrimary() throws {
        let harness = try harness()
        #expect(harness.request("GET", "/readyz").status == 200)
        let stats = clusterStats(harness)
        let nodes = try #require(stats["nodes"] as? [[String: Any]])
        let ports = Set(Self.cluster.primaries.map { "127.0.0.1:\($0.port)" })
        #expect(Set(nodes.compactMap { $0["pool"] as? String }) == ports)
        #expect(stats["uncovered_slots"] as? Int == 0)
        let metrics = harness.request("GET", "/metrics").text
        for port in ports { #expect(metrics.contains(#"db_client_connection_pool_name="\#(port)""#)) }
        #expect(!metrics.contains(#"db_client_connection_pool_name="cluster""#), "no totals beside the nodes' series")
        #expect(harness.request("GET", "/pool/health").status == 200)
    }

    @Test func theSessionExampleRunsOnTheClusterInTwoRoundTrips() throws {
        let harness = try harness()
        let login = harness.request("POST", "/api/login", text: #"{"user_id": 5, "password": "demo-password"}"#)
        #expect(login.status == 200)
        let cookie = login.headers["set-cookie"] ?? ""
        let sid = String(cookie.dropFirst(4).prefix { $0 != ";" })
        let first = harness.request("GET", "/api/data", headers: [("Authorization", "Session \(sid)")])
        #expect(first.status == 200 && first.text.contains("user5@example.com"), "\(first.text)")
        let second = harness.request("GET", "/api/data", headers: [("Authorization", "Session \(sid)")])
        #expect(second.headers["x-cache"] == "hit")
        #expect(harness.request("GET", "/api/data", headers: [("Authorization", "Session nope")]).status == 401)
    }

    func clusterStats(_ harness: GatewayHarness) -> [String: Any] {
        ((json(harness.request("GET", "/pool/stats")) as? [String: Any])?["cluster"] as? [String: Any]) ?? [:]
    }

}
