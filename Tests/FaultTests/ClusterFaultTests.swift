import Foundation
import LoadTesting
import Synchronization
import TestSupport
import Testing

/// The gateway in front of a real Redis Cluster (3 primaries, 3 replicas, `cluster-node-timeout`
/// 1000) under a bounded write and read load over keys in every slot: a primary killed, 1,000
/// slots resharded, a replica killed.
@Suite(.serialized) struct ClusterFaultTests {
    /// A load of `threads` loops alternating a PUT of a fresh key and a GET of the key last written
    /// by the same loop; keys spread over every slot.
    func mixedLoad(_ gateway: GatewayProcess, threads: Int = 4) -> LoadRecorder {
        let sequence = Atomic<Int>(0)
        return LoadRecorder(port: gateway.port, threads: threads) { count in
            let n = sequence.add(1, ordering: .relaxed).newValue
            if count % 2 == 0 { return ("PUT", "/cache/cl-\(n)", "value-\(n)") }
            return ("GET", "/cache/cl-\(n - threads)", "")
        }
    }

    /// A gateway on `cluster` with `environment`, once `/readyz` says every slot has a reachable primary.
    func readyGateway(_ cluster: RedisClusterNodes, environment: [String: String] = [:]) throws -> GatewayProcess {
        let gateway = try GatewayProcess(redisURL: cluster.url, environment: environment)
        #expect(eventually(within: .seconds(10)) { HTTPTestClient(port: gateway.port).request("GET", "/readyz")?.status == 200 })
        return gateway
    }

    static func isWrite(_ sample: LoadRecorder.Sample) -> Bool { sample.target.hasPrefix("PUT") }

    /// Keys written with 200/201, checked through the gateway (EXISTS is split by slot and summed).
    func missingWrites(_ samples: [LoadRecorder.Sample], gateway: GatewayProcess) -> (acknowledged: Int, missing: Int) {
        let acknowledged = samples.filter { Self.isWrite($0) && ($0.status == 200 || $0.status == 201) }.map {
            String($0.target.dropFirst("PUT /cache/".count))
        }
        var present = 0
        for start in stride(from: 0, to: acknowledged.count, by: 300) {
            let chunk = acknowledged[start..<min(start + 300, acknowledged.count)]
            let body = "[" + (["\"EXISTS\""] + chunk.map { "\"\($0)\"" }).joined(separator: ",") + "]"
            let reply = HTTPTestClient(port: gateway.port).request("POST", "/", text: body)?.text ?? ""
            present += Int(reply.drop { !$0.isNumber }.prefix { $0.isNumber }) ?? 0
        }
        return (acknowledged.count, acknowledged.count - present)
    }

    @Test(.timeLimit(.minutes(3)))
    func primaryKilled() throws {
        let cluster = try RedisClusterNodes()
        defer { cluster.stop() }
        let gateway = try readyGateway(
            cluster,
            environment: ["GATEWAY_MIN_REPLICA_ACKS": "1", "GATEWAY_REPLICA_ACK_TIMEOUT_MS": "200", "GATEWAY_SOCKET_TIMEOUT_MS": "1000"])
        let victim = cluster.primaries[0]
        let replicaPort = try #require(
            cluster.replicas.first { $0.command(["INFO", "replication"])?.contains("master_port:\(victim.port)") == true }?.port)
        let load = mixedLoad(gateway)
        load.start()
        load.wait(until: 1.0)
        let killedAt = load.now
        victim.stop()
        let promoted = eventually(within: .seconds(20)) {
            cluster.nodes.first { $0.port == replicaPort }?.command(["INFO", "replication"])?.contains("role:master") == true
        }
        let promotedAt = load.now
        #expect(promoted, "the cluster promoted the replica")
        // A supervisor restarts the killed node: it rejoins as the new primary's replica, so writes
        // on that shard can be confirmed by a replica (`WAIT 1`) again.
        victim.start()
        let resumed = eventually(within: .seconds(20)) {
            load.snapshot().contains { $0.start >= promotedAt && Self.isWrite($0) && $0.status == 201 }
                && load.now > promotedAt + 3
        }
        let samples = load.stop()
        #expect(resumed)
        let unclean = samples.filter { ![200, 201, 404, 503, 504].contains($0.status) }
        #expect(unclean.isEmpty, "only clean outcomes: \(unclean.prefix(3))")
        #expect(samples.longestLatency < 5, "no request hangs: longest \(samples.longestLatency) s")
        let failures = samples.filter { $0.start >= killedAt && $0.status >= 500 }
        let lastFailure = failures.max { $0.end < $1.end }
        let resumedAt = samples.filter { Self.isWrite($0) && $0.status == 201 && $0.start >= (lastFailure?.start ?? killedAt) }.min {
            $0.end < $1.end
        }
        let resumeTime = (resumedAt?.end ?? load.now) - killedAt
        // Writes reach the promoted replica as soon as the cluster has promoted it; with `WAIT 1` they
        // are confirmed again only once it has a replica of its own (the restarted node, resynced).
        let reachedNewPrimary = (failures.filter { $0.status == 503 }.map(\.end).max() ?? killedAt) - killedAt
        #expect(
            reachedNewPrimary < promotedAt - killedAt + 1,
            "the gateway followed the promotion at once: \(reachedNewPrimary) s, promoted after \(promotedAt - killedAt) s")
        #expect(resumeTime < 10, "confirmed writes resumed \(resumeTime) s after the kill")
        let (acknowledged, missing) = missingWrites(samples, gateway: gateway)
        #expect(missing == 0, "\(missing) of \(acknowledged) acknowledged writes are missing")
        // The failures were all on the killed primary's slots, now the promoted replica's.
        let promotedNode = try #require(cluster.nodes.first { $0.port == replicaPort })
        let elsewhere = failures.prefix(100).filter { failure in
            let key = String(failure.target.split(separator: "/").last ?? "")
            return promotedNode.command(["GET", key])?.hasPrefix("-MOVED") == true
        }
        #expect(elsewhere.isEmpty, "failures on other primaries' slots: \(elsewhere.prefix(3))")
        let during = samples.filter { $0.start >= killedAt && $0.end <= (resumedAt?.end ?? load.now) }
        let unreachableUntil = failures.filter { $0.status == 503 }.map(\.end).max().map { ms($0 - killedAt) } ?? "—"
        let unconfirmedUntil = failures.filter { $0.status == 504 }.map(\.end).max().map { ms($0 - killedAt) } ?? "—"
        FaultReport(
            scenario: "Cluster: a primary killed (SIGKILL) under a write/read load, writes confirmed with `WAIT 1`",
            detect: failures.min { $0.end < $1.end }.map { ms($0.end - killedAt) } ?? "no failed request",
            recover:
                "writes reached the new primary \(ms(reachedNewPrimary)) after the kill (replica promoted after \(ms(promotedAt - killedAt))); confirmed by a replica again after \(ms(resumeTime))",
            errors:
                "\(failures.count) of \(during.count), only on the killed primary's slots: 503 until \(unreachableUntil), then 504 (no replica to confirm `WAIT 1`) until \(unconfirmedUntil)",
            notes:
                "\(acknowledged) writes acknowledged, \(missing) missing; longest request \(ms(samples.longestLatency)); the killed node restarted once promoted (it rejoins as a replica)"
        ).write()
    }

    @Test(.timeLimit(.minutes(3)))
    func thousandSlotsResharded() throws {
        let cluster = try RedisClusterNodes()
        defer { cluster.stop() }
        let gateway = try readyGateway(cluster)
        let primaries = cluster.primaries
        let from = try #require(primaries[0].command(["CLUSTER", "MYID"]))
        let to = try #require(primaries[1].command(["CLUSTER", "MYID"]))
        let load = mixedLoad(gateway)
        load.start()
        load.wait(until: 1.0)
        let startedAt = load.now
        let reshard = Process()
        reshard.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        reshard.arguments = [
            "--cluster", "reshard", "127.0.0.1:\(primaries[0].port)", "--cluster-from", from, "--cluster-to", to,
            "--cluster-slots", "1000", "--cluster-yes", "--cluster-pipeline", "100",
        ]
        reshard.standardOutput = FileHandle.nullDevice
        try reshard.run()
        reshard.waitUntilExit()
        let finishedAt = load.now
        load.wait(until: finishedAt + 1)
        let samples = load.stop()
        #expect(reshard.terminationStatus == 0)
        let failures = samples.filter { ![200, 201, 404].contains($0.status) }
        #expect(failures.isEmpty, "no request fails while slots move: \(failures.prefix(3))")
        let reads = samples.filter { !Self.isWrite($0) && $0.start >= startedAt }
        let wrongValues = reads.filter { $0.status == 200 && !$0.body.contains("value-") }
        #expect(wrongValues.isEmpty)
        let (acknowledged, missing) = missingWrites(samples, gateway: gateway)
        #expect(missing == 0, "\(missing) of \(acknowledged) acknowledged writes are missing")
        let stats = gateway.poolStats()["cluster"] as? [String: Any] ?? [:]
        FaultReport(
            scenario: "Cluster: 1,000 slots resharded (`redis-cli --cluster reshard`) under a write/read load",
            detect: "—",
            recover: "resharding took \(ms(finishedAt - startedAt)); MOVED and ASK followed",
            errors: "\(failures.count) of \(samples.filter { $0.start >= startedAt }.count)",
            notes:
                "\(acknowledged) writes acknowledged, \(missing) missing; \(stats["layout_refreshes"] ?? "?") layout reads; longest request \(ms(samples.longestLatency))"
        ).write()
    }

    @Test(.timeLimit(.minutes(3)))
    func replicaKilled() throws {
        let cluster = try RedisClusterNodes()
        defer { cluster.stop() }
        let gateway = try readyGateway(cluster)
        let load = mixedLoad(gateway)
        load.start()
        load.wait(until: 1.0)
        let killedAt = load.now
        cluster.replicas[0].stop()
        load.wait(until: killedAt + 3)
        let samples = load.stop()
        let failures = samples.filter { ![200, 201, 404].contains($0.status) }
        #expect(failures.isEmpty, "a replica's death touches no request: \(failures.prefix(3))")
        #expect(HTTPTestClient(port: gateway.port).request("GET", "/readyz")?.status == 200)
        FaultReport(
            scenario: "Cluster: a replica killed (SIGKILL) under a write/read load",
            detect: "—", recover: "nothing to recover",
            errors: "\(failures.count) of \(samples.filter { $0.start >= killedAt }.count)",
            notes: "longest request \(ms(samples.longestLatency)); `/readyz` stays ready"
        ).write()
    }
}
