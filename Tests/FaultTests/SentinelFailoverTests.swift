import Foundation
import LoadTesting
import Synchronization
import TestSupport
import Testing

/// The gateway behind three Sentinels, a master and two replicas, all real processes on loopback,
/// under a bounded write load: a coordinated `SENTINEL FAILOVER`, then the master killed. Writes
/// must resume on the new master, no request may hang, and no write the gateway acknowledged may be
/// missing from the new master (the gateway confirms each write with `WAIT 1` before answering).
///
/// Two replicas, not one: with `WAIT 1`, a promoted replica needs a replica of its own before any
/// write can be confirmed again. The second replica is re-pointed within the failover itself; the
/// demoted (or killed) old master only rejoins after Sentinel's fixed reconfiguration delay (≈ 10 s
/// in our runs), so with a single replica writes stay unconfirmed (504) that long.
@Suite(.serialized) struct SentinelFailoverTests {
    enum Fault {
        case sentinelFailover
        case masterKilled
    }

    @Test(.timeLimit(.minutes(3)))
    func sentinelFailoverCommand() throws {
        try failover(.sentinelFailover)
    }

    @Test(.timeLimit(.minutes(3)))
    func masterKilled() throws {
        try failover(.masterKilled)
    }

    private func failover(_ fault: Fault) throws {
        let cluster = try SentinelCluster(replicas: 2)
        let oldMaster = cluster.nodes[0]
        let replicaPorts = cluster.nodes.dropFirst().map(\.port)
        let gateway = try GatewayProcess(
            redisURL: cluster.url,
            environment: ["GATEWAY_MIN_REPLICA_ACKS": "1", "GATEWAY_REPLICA_ACK_TIMEOUT_MS": "200", "GATEWAY_SOCKET_TIMEOUT_MS": "1000"])
        let first = HTTPTestClient(port: gateway.port).request("PUT", "/cache/sentinel-probe", text: "v")
        #expect(first?.status == 201, "\(first?.text ?? "no response") \(gateway.log.suffix(400))")
        #expect(gateway.poolStats()["pool"] as? String == "sentinel:mymaster/0")
        // An event stream open through the failover: its subscription must follow the master.
        let stream = try #require(EventStreamClient(port: gateway.port, target: "/subscribe/failover-news", timeoutSeconds: 30))
        #expect(stream.next() == "data: subscribe,failover-news,1")
        let baseline = gateway.settledDescriptorsBesidesThePool()

        let sequence = Atomic<Int>(0)
        let load = LoadRecorder(port: gateway.port, threads: 4) { _ in
            let n = sequence.add(1, ordering: .relaxed).newValue
            return ("PUT", "/cache/failover-\(n)", "value-\(n)")
        }
        load.start()
        load.wait(until: 1.0)
        let injectedAt = load.now
        switch fault {
        case .sentinelFailover: #expect(cluster.sentinels[0].command(["SENTINEL", "FAILOVER", SentinelCluster.masterName]) == "+OK")
        case .masterKilled: oldMaster.stop()
        }
        let switched = eventually(within: .seconds(30)) { cluster.announcedMasterPort.map(replicaPorts.contains) == true }
        let newMaster = try #require(cluster.nodes.first { $0.port == cluster.announcedMasterPort })
        let switchSeenAt = load.now
        #expect(switched, "the Sentinels promoted the replica")
        let resumed = eventually(within: .seconds(20)) {
            load.snapshot().contains { $0.start >= switchSeenAt && ($0.status == 201 || $0.status == 200) }
        }
        load.wait(until: load.now + 0.5)
        let samples = load.stop()

        #expect(resumed, "writes resumed on the new master: \(gateway.log.suffix(800))")
        #expect(stream.next(where: { $0.hasPrefix("event: resubscribed") }) != nil, "the stream was told its subscription is back")
        let numsub = ["EVAL", "return redis.call('PUBSUB', 'NUMSUB', KEYS[1])[2]", "1", "failover-news"]
        #expect(eventually(within: .seconds(10)) { newMaster.command(numsub) == ":1" }, "the subscription moved to the new master")
        _ = newMaster.command(["PUBLISH", "failover-news", "after the failover"])
        #expect(stream.next(where: { !$0.hasPrefix(":") }) == "data: message,failover-news,after the failover")
        let unclean = samples.filter { ![200, 201, 503, 504].contains($0.status) }
        #expect(unclean.count == 0, "only clean outcomes: \(unclean.prefix(3))")
        #expect(samples.longestLatency < 5, "no request hangs: longest \(samples.longestLatency) s")

        // Every acknowledged write is on the new master.
        let acknowledged = samples.filter { $0.status == 200 || $0.status == 201 }.map { String($0.target.dropFirst("PUT /cache/".count)) }
        var missing = 0
        for chunk in stride(from: 0, to: acknowledged.count, by: 200).map({ Array(acknowledged[$0..<min($0 + 200, acknowledged.count)]) }) {
            let present = Int(newMaster.command(["EXISTS"] + chunk)?.dropFirst() ?? "") ?? 0
            missing += chunk.count - present
        }
        #expect(missing == 0, "\(missing) of \(acknowledged.count) acknowledged writes are missing on the new master")

        let failures = samples.filter { $0.start >= injectedAt && $0.status >= 500 }
        let firstFailure = failures.min { $0.end < $1.end }
        let lastFailure = failures.max { $0.end < $1.end }
        let resumedSample = samples.filter { $0.start >= (lastFailure?.start ?? injectedAt) && $0.status < 300 }.min { $0.end < $1.end }
        let resumeTime = (resumedSample?.end ?? load.now) - injectedAt
        #expect(resumeTime < 15, "writes resumed \(resumeTime) s after the fault")
        #expect(eventually(within: .seconds(10)) { gateway.stat("in_use") == 0 && gateway.stat("open") <= gateway.stat("max") })
        #expect(
            eventually(within: .seconds(10)) { gateway.descriptorsBesidesThePool() <= baseline },
            "descriptors besides the pool: \(gateway.descriptorsBesidesThePool()) > \(baseline)")
        let closedStale = ((gateway.poolStats()["closed"] as? [String: Int])?["invalidated"]) ?? 0
        let unconfirmed = failures.filter { $0.body.contains("replicas confirmed") }.count
        FaultReport(
            scenario: fault == .sentinelFailover
                ? "Sentinel: `SENTINEL FAILOVER` under a write load (writes confirmed with `WAIT 1`)"
                : "Sentinel: master killed (SIGKILL) under a write load, `down-after-milliseconds` 1000",
            detect: firstFailure.map { ms($0.end - injectedAt) } ?? "no failed request",
            recover: "writes resumed \(ms(resumeTime)) after the fault (Sentinels switched after \(ms(switchSeenAt - injectedAt)))",
            errors:
                "\(failures.count) of \(samples.filter { $0.start >= injectedAt && $0.end <= (resumedSample?.end ?? load.now) }.count) (\(unconfirmed) unconfirmed by a replica → 504)",
            notes:
                "\(acknowledged.count) writes acknowledged, 0 missing on the new master; \(closedStale) connections to the old master closed; longest request \(ms(samples.longestLatency)); an open event stream got `resubscribed` and then a message published on the new master"
        ).write()
    }
}
