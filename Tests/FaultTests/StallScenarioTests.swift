import Foundation
import LoadTesting
import TestSupport
import Testing

/// Redis stalls — a fork, a slow script, `CLIENT PAUSE` — are not outages: requests that arrive
/// during a stall wait within their borrow deadline and succeed when Redis answers again; only
/// commands already in flight longer than the socket timeout get 504. Part of the serialized fault
/// suite (its figures are timings).
extension FaultScenarioTests {
    /// 200 keys `stall-<n>` holding `value-<n>`; a GET of key n must answer exactly that value.
    static let stallKeys = 200

    static func seedStallKeys(_ redis: RedisServer) {
        for n in 0..<stallKeys { _ = redis.command(["SET", "stall-\(n)", "value-\(n)"]) }
    }

    static func stallRead(_ n: Int) -> (method: String, target: String, body: String) {
        ("GET", "/cache/stall-\(n % stallKeys)", "")
    }

    /// A 200 whose value is not the one stored under its key: a reply handed to the wrong request.
    static func isWrongReply(_ sample: LoadRecorder.Sample) -> Bool {
        guard sample.status == 200, let key = sample.target.split(separator: "/").last else { return false }
        return !sample.body.contains(#""value":"value-\#(key.dropFirst("stall-".count))""#)
    }

    @Test(.timeLimit(.minutes(2)))
    func repeatedShortStallsCostLatencyNotErrors() throws {
        let redis = RedisServer()
        Self.seedStallKeys(redis)
        let gateway = try GatewayProcess(redisURL: redis.url, environment: ["GATEWAY_SOCKET_TIMEOUT_MS": "300"])
        #expect(eventually { gateway.stat("idle") == 2 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        let load = LoadRecorder(port: gateway.port, threads: 16, request: Self.stallRead)
        load.start()
        var stalls: [(began: Double, ended: Double)] = []
        for second in 1...6 {
            load.wait(until: Double(second))
            let began = load.now
            _ = redis.command(["DEBUG", "SLEEP", "0.5"])
            stalls.append((began, load.now))
        }
        load.wait(until: 7.5)
        let samples = load.stop()

        expectOnlyCleanStatuses(samples)
        let unavailable = samples.filter { $0.status == 503 }
        let timedOut = samples.filter { $0.status == 504 }
        let wrong = samples.filter(Self.isWrongReply)
        #expect(unavailable.count == 0, "a stall is not an outage: \(unavailable.prefix(3))")
        #expect(wrong.count == 0, "wrong replies: \(wrong.prefix(3))")
        // A 504 is for a command sent before the stall was detected (within one socket timeout of its start).
        let lateTimeouts = timedOut.filter { sample in !stalls.contains { sample.start < $0.began + 0.3 + 0.05 && sample.end > $0.began } }
        #expect(lateTimeouts.count == 0, "504s for requests that arrived after the stall was seen: \(lateTimeouts.prefix(3))")
        let recoveries = stalls.map { stall in
            (samples.firstSuccess(startingAfter: stall.ended, isSuccess: { $0.status == 200 })?.end ?? .infinity) - stall.ended
        }
        #expect(recoveries.allSatisfy { $0 < 0.25 }, "recovery after each stall: \(recoveries.map(ms))")
        #expect(samples.longestLatency < 2.5, "no request hangs: longest \(samples.longestLatency) s")
        #expect(gateway.stat("outages") == 0 && gateway.stat("stalls") >= 1, "\(gateway.poolStats())")
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario: "`DEBUG SLEEP 0.5` every second, 6 times (16 clients, socket timeout 300 ms)",
            detect: "-", recover: "\(ms(recoveries.max() ?? 0)) at most after each stall",
            errors:
                "\(timedOut.count + unavailable.count) of \(samples.count) (\(timedOut.count)× 504, \(unavailable.count)× 503), 0 wrong replies",
            notes:
                "the pool counted \(gateway.stat("stalls")) stalls and \(gateway.stat("outages")) outages; longest request \(ms(samples.longestLatency))"
        ).write()
    }

    @Test(.timeLimit(.minutes(2)))
    func clientPauseWriteLetsReadsFlow() throws {
        let redis = RedisServer()
        Self.seedStallKeys(redis)
        let gateway = try GatewayProcess(redisURL: redis.url, environment: ["GATEWAY_SOCKET_TIMEOUT_MS": "1500"])
        #expect(eventually { gateway.stat("idle") == 2 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        let readers = LoadRecorder(port: gateway.port, threads: 6, request: Self.stallRead)
        let writers = LoadRecorder(port: gateway.port, threads: 2) { _ in ("PUT", "/cache/pause-write-\(UUID().uuidString)", "written") }
        readers.start()
        writers.start()
        readers.wait(until: 0.5)
        let pausedAt = readers.now
        #expect(redis.command(["CLIENT", "PAUSE", "1000", "WRITE"]) == "+OK")
        readers.wait(until: pausedAt + 1.3)
        let reads = readers.stop()
        let writes = writers.stop()

        expectOnlyCleanStatuses(reads + writes)
        let readsDuringPause = reads.filter { $0.start > pausedAt + 0.01 && $0.end < pausedAt + 0.95 }
        let failedReads = reads.filter { $0.status != 200 }
        let failedWrites = writes.filter { $0.status != 201 }
        #expect(readsDuringPause.count > 100, "reads kept flowing while writes were paused: \(readsDuringPause.count)")
        #expect(failedReads.count == 0, "no read failed: \(failedReads.prefix(3))")
        #expect(failedWrites.count == 0, "writes wait out the pause: \(failedWrites.prefix(3))")
        #expect(reads.filter(Self.isWrongReply).count == 0)
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario: "`CLIENT PAUSE 1000 WRITE` (6 clients reading, 2 writing; socket timeout 1.5 s)",
            detect: "-", recover: "writes answered when the pause ended",
            errors: "0 of \(reads.count + writes.count), 0 wrong replies",
            notes: "\(readsDuringPause.count) reads answered during the pause; longest write \(ms(writes.map(\.latency).max() ?? 0))"
        ).write()
    }

    @Test(.timeLimit(.minutes(2)))
    func aSlowLuaScriptIsAStall() throws {
        let redis = RedisServer()
        Self.seedStallKeys(redis)
        let gateway = try GatewayProcess(redisURL: redis.url, environment: ["GATEWAY_SOCKET_TIMEOUT_MS": "300"])
        #expect(eventually { gateway.stat("idle") == 2 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        let load = LoadRecorder(port: gateway.port, threads: 8, request: Self.stallRead)
        load.start()
        load.wait(until: 0.5)
        let began = load.now
        // A busy script (no writes, so SCRIPT KILL could stop it) that spins for 1.5 s.
        let script = """
            local t = redis.call('TIME'); local stop = t[1] * 1000000 + t[2] + 1500000
            repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= stop
            return 1
            """
        #expect(redis.command(["EVAL", script, "0"]) == ":1")
        let ended = load.now
        load.wait(until: ended + 0.5)
        let samples = load.stop()

        expectOnlyCleanStatuses(samples)
        let unavailable = samples.filter { $0.status == 503 }
        let timedOut = samples.filter { $0.status == 504 }
        #expect(unavailable.count == 0, "a busy script is not an outage: \(unavailable.prefix(3))")
        #expect(timedOut.allSatisfy { $0.start < began + 0.35 }, "504s only for commands sent before the stall was seen")
        #expect(samples.filter(Self.isWrongReply).count == 0)
        let recovered = try #require(samples.firstSuccess(startingAfter: ended, isSuccess: { $0.status == 200 }))
        #expect(recovered.end - ended < 0.25, "recovered \(ms(recovered.end - ended)) after the script ended")
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario: "a busy Lua script for 1.5 s (8 clients, socket timeout 300 ms)",
            detect: "-", recover: ms(recovered.end - ended) + " after the script ended",
            errors:
                "\(timedOut.count + unavailable.count) of \(samples.count) (\(timedOut.count)× 504, \(unavailable.count)× 503), 0 wrong replies",
            notes:
                "requests that arrived during the script waited for it (borrow deadline 2 s); longest request \(ms(samples.longestLatency))"
        ).write()
    }
}
