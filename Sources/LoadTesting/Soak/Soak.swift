import CoreUtilities
import Foundation
import Synchronization

/// `gateway-load soak`: hours of mixed, self-checking traffic through a real gateway in front of a
/// real Redis, with faults on a schedule (a Redis restart, a `CLIENT PAUSE`), read every
/// `sampleEvery` and judged at the end:
///
/// - no wrong reply (each caller checks what it reads against what it wrote);
/// - every non-2xx is a 503 or 504 inside a fault window (from the fault until `grace` after it);
/// - after each fault, threads and non-pool open files come back to their count before it;
/// - after warm-up, RSS grows less than 1 MiB per 10 minutes (the median slope, Theil–Sen);
/// - when the load stops, threads and open files come back to their idle counts;
/// - every event stream still receives messages at the end.
public struct Soak: Sendable {
    /// What to run.
    public struct Configuration: Sendable {
        public var gatewayBinary: String
        public var redisServerBinary = "redis-server"
        public var duration: Duration = .seconds(180)
        public var workers = 8
        public var subscribers = 4
        /// A Redis restart every `restartEvery`, the first at half of it.
        public var restartEvery: Duration = .seconds(120)
        /// A `CLIENT PAUSE` of `pauseLength` every `pauseEvery`, the first at half of it.
        public var pauseEvery: Duration = .seconds(180)
        public var pauseLength: Duration = .seconds(3)
        public var sampleEvery: Duration = .seconds(10)
        /// Samples before this are left out of the RSS trend; nil: until 10 s after the first of each
        /// kind of fault has ended (the first run of each path allocates what it then keeps), at
        /// least 30 s and at most half the run.
        public var warmUp: Duration?
        /// How long after a fault ends 503/504 are still expected (the pool's reconnect backoff).
        public var grace: Duration = .seconds(10)
        /// Where the report, the samples and the logs go.
        public var output: String
        /// Settings for the gateway on top of the soak's own.
        public var gatewayEnvironment: [String: String] = [:]

        public init(gatewayBinary: String, output: String) {
            self.gatewayBinary = gatewayBinary
            self.output = output
        }
    }

    /// A fault and what it did.
    public struct Fault: Sendable {
        public let kind: String
        public let start: Double
        public var end: Double
        /// Seconds after its end until threads and non-pool files were back (nil: not within 30 s).
        public var recovery: Double?
        var before: SoakSample
    }

    /// One assertion of the soak and whether it held.
    public struct Verdict: Sendable {
        public let passed: Bool
        public let text: String
    }

    /// What the soak saw.
    public struct Result: Sendable {
        public var samples: [SoakSample] = []
        public var faults: [Fault] = []
        public var verdicts: [Verdict] = []
        public var statuses: [Int: Int] = [:]
        public var idle: SoakSample?
        public var afterLoad: SoakSample?
        public var rssSlopeKiBPer10Minutes = 0.0
        public var messagesReceived = 0
        public var passed: Bool { verdicts.allSatisfy(\.passed) }
        /// Where the RSS trend starts (seconds).
        public var warmUp = 0.0
    }

    let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Runs the soak; `log` gets a line per sample and per fault.
    public func run(log: @Sendable (String) -> Void) throws(LoadTestError) -> Result {
        // Absolute: redis-server changes into its --dir before it opens its log file.
        let output = URL(fileURLWithPath: configuration.output).standardizedFileURL.path
        let scratch = "\(output)/scratch"
        try? FileManager.default.removeItem(atPath: scratch)
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        } catch {
            throw LoadTestError("cannot create \(scratch): \(error)")
        }
        guard let redisPort = LoopbackPort.free(), let gatewayPort = LoopbackPort.free() else {
            throw LoadTestError("no free loopback port")
        }
        let redis = try RedisServerProcess(binary: configuration.redisServerBinary, port: redisPort, directory: scratch)
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GATEWAY_") && $0.key != "REDIS_URL" }
        environment["REDIS_URL"] = "redis://127.0.0.1:\(redisPort)/0"
        environment["GATEWAY_PORT"] = String(gatewayPort)
        environment["GATEWAY_HOST"] = "127.0.0.1"
        environment["GATEWAY_DATABASE_PATH"] = "\(scratch)/users.sqlite"
        environment["GATEWAY_SESSION_SECRET"] = "soak-test-secret-soak-test-secret-0123"
        environment["GATEWAY_LOG_LEVEL"] = "warning"
        // A stream whose caller left is noticed at a heartbeat: every 2 s, so the idle counts settle fast.
        environment["GATEWAY_SSE_HEARTBEAT_S"] = "2"
        environment.merge(configuration.gatewayEnvironment) { $1 }
        let gateway = try GatewayProcess(
            binary: configuration.gatewayBinary, environment: environment, port: gatewayPort,
            logPath: "\(output)/gateway.log")
        let target = try LoadTarget(parsing: "http://127.0.0.1:\(gatewayPort)")

        var result = Result()
        let tally = SoakTally(start: .now)
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let channel = "soak-\(run)"
        let workers = (0..<configuration.workers).map {
            SoakWorker(index: $0, run: run, target: target, tally: tally, channel: channel, users: 100)
        }
        // Idle means every part touched once (the database opened at login, the subscriber link's
        // thread and connection made at the first stream), then nothing running.
        for worker in workers { try worker.prepare() }
        let subscribers = (0..<configuration.subscribers).map {
            SoakSubscriber(index: $0, target: target, channel: channel, tally: tally)
        }
        try subscribers[0].touch()
        let idle = try reading(within: .seconds(30), "the touched stream to close", pid: gateway.pid, target: target) { $0.streams == 0 }
        result.idle = idle
        log(
            "idle: RSS \(idle.residentKiB / 1024) MiB, PSS \(idle.proportionalKiB / 1024) MiB, \(idle.threads) threads, \(idle.openFiles) files"
        )
        let finished = DispatchGroup()
        for worker in workers {
            finished.enter()
            Thread.detachNewThread {
                worker.run()
                finished.leave()
            }
        }
        for subscriber in subscribers {
            finished.enter()
            Thread.detachNewThread {
                subscriber.run()
                finished.leave()
            }
        }

        // The schedule, ticked once a second: samples, faults, and the recovery of each fault.
        let seconds = configuration.duration.secondsDouble
        let sampleEvery = configuration.sampleEvery.secondsDouble
        var restartAt = configuration.restartEvery.secondsDouble / 2
        var pauseAt = configuration.pauseEvery.secondsDouble / 2
        var nextSample = sampleEvery
        var previous = (at: 0.0, total: 0, succeeded: 0)
        var recovering: Int?
        let lastFaultBefore = seconds - 30
        while true {
            let now = tally.elapsed()
            if now >= seconds { break }
            if let index = recovering {
                let sample = SoakSample.read(pid: gateway.pid, at: now, statsTarget: target)
                let before = result.faults[index].before
                if sample.isBack(to: before) {
                    result.faults[index].recovery = now - result.faults[index].end
                    recovering = nil
                } else if now - result.faults[index].end > 30 {
                    recovering = nil
                }
            }
            if now >= nextSample {
                var sample = SoakSample.read(pid: gateway.pid, at: now, statsTarget: target)
                let total = tally.total.load(ordering: .relaxed), succeeded = tally.succeeded.load(ordering: .relaxed)
                let span = max(now - previous.at, 0.001)
                sample.requestsPerSecond = Double(total - previous.total) / span
                sample.failuresPerSecond = Double((total - succeeded) - (previous.total - previous.succeeded)) / span
                previous = (now, total, succeeded)
                result.samples.append(sample)
                log(
                    String(
                        format: "%6.0f s  RSS %6.1f MiB  PSS %6.1f MiB  threads %3d  files %4d  pool %d open  %7.0f req/s  %5.1f failed/s",
                        now, Double(sample.residentKiB) / 1024, Double(sample.proportionalKiB) / 1024, sample.threads,
                        sample.openFiles, sample.poolOpen, sample.requestsPerSecond, sample.failuresPerSecond))
                nextSample += sampleEvery
            }
            if recovering == nil, now >= restartAt || now >= pauseAt, now < lastFaultBefore {
                let kind = now >= restartAt ? "redis restart" : "client pause"
                let before = SoakSample.read(pid: gateway.pid, at: now, statsTarget: target)
                let start = tally.elapsed()
                if kind == "redis restart" {
                    try redis.restart()
                    restartAt += configuration.restartEvery.secondsDouble
                } else {
                    try redis.pause(milliseconds: Int(configuration.pauseLength.secondsDouble * 1000))
                    Thread.sleep(forTimeInterval: configuration.pauseLength.secondsDouble)  // the pause runs out in Redis
                    pauseAt += configuration.pauseEvery.secondsDouble
                }
                result.faults.append(Fault(kind: kind, start: start, end: tally.elapsed(), recovery: nil, before: before))
                recovering = result.faults.count - 1
                log(String(format: "%6.0f s  %@ (%.1f s)", start, kind, tally.elapsed() - start))
                continue
            }
            if now >= restartAt { restartAt += configuration.restartEvery.secondsDouble }
            if now >= pauseAt, recovering == nil { pauseAt += configuration.pauseEvery.secondsDouble }
            Thread.sleep(forTimeInterval: max(0.05, (now + 1).rounded(.down) - tally.elapsed()))
        }
        let lastMessages = subscribers.map { subscriber in subscriber.lastMessageAt.withLock { $0 } }
        tally.stopped.store(true, ordering: .relaxed)
        guard finished.wait(timeout: .now() + 30) == .success else { throw LoadTestError("the soak's callers did not stop within 30 s") }

        // Once the load stops, threads and files come back to their idle counts (awaited, bounded).
        let afterLoad =
            (try? reading(within: .seconds(30), "", pid: gateway.pid, target: target) { $0.streams == 0 && $0.isBack(to: idle) })
            ?? SoakSample.read(pid: gateway.pid, at: tally.elapsed(), statsTarget: target)
        result.afterLoad = afterLoad
        result.statuses = tally.statuses
        result.messagesReceived = subscribers.map { $0.received.load(ordering: .relaxed) }.reduce(0, +)
        gateway.terminate()
        redis.stop()
        try? FileManager.default.removeItem(atPath: scratch)
        result.verdicts = judge(
            result: &result, tally: tally, idle: idle, afterLoad: afterLoad, lastMessages: lastMessages, seconds: seconds)
        return result
    }

    private func judge(
        result: inout Result, tally: SoakTally, idle: SoakSample, afterLoad: SoakSample, lastMessages: [Double], seconds: Double
    ) -> [Verdict] {
        var verdicts: [Verdict] = []
        let wrong = tally.wrong
        verdicts.append(
            Verdict(
                passed: wrong.count == 0,
                text: "wrong replies: \(wrong.count)" + (wrong.first.isEmpty ? "" : " — " + wrong.first.joined(separator: "; "))))

        let grace = configuration.grace.secondsDouble
        let outside = Self.unexpected(tally.failures, faults: result.faults, grace: grace)
        let failures = tally.failures.count
        verdicts.append(
            Verdict(
                passed: outside.isEmpty,
                text: "non-2xx answers: \(failures), of which outside a fault window or not 503/504: \(outside.count)"
                    + (outside.isEmpty
                        ? "" : " — " + outside.prefix(10).map { String(format: "%.1f s %@", $0.at, $0.what) }.joined(separator: "; "))))

        for fault in result.faults {
            let last = tally.failures.filter { $0.at >= fault.start && $0.at <= fault.end + grace }.map(\.at).max()
            let lastText =
                last.map {
                    $0 >= fault.end
                        ? String(format: "last non-2xx %.1f s after it ended", $0 - fault.end)
                        : String(format: "last non-2xx %.1f s before it ended", fault.end - $0)
                } ?? "no non-2xx"
            verdicts.append(
                Verdict(
                    passed: fault.recovery != nil,
                    text: String(format: "%@ at %.0f s (%.1f s): ", fault.kind, fault.start, fault.end - fault.start)
                        + (fault.recovery.map { String(format: "threads and files back %.1f s after it; ", $0) }
                            ?? "threads or files NOT back within 30 s; ") + lastText))
        }

        result.warmUp = warmUp(faults: result.faults, seconds: seconds)
        let fitted = result.samples.filter { $0.at >= result.warmUp }
        let slope = Self.slope(fitted.map { ($0.at, Double($0.residentKiB)) }) * 600
        result.rssSlopeKiBPer10Minutes = slope
        verdicts.append(Self.memoryVerdict(slope: slope, samples: fitted.count, window: (fitted.last?.at ?? 0) - result.warmUp))

        verdicts.append(
            Verdict(
                passed: afterLoad.streams == 0 && afterLoad.isBack(to: idle),
                text: "after the load: \(afterLoad.threads) threads (idle \(idle.threads)), \(afterLoad.openFiles) files with "
                    + "\(afterLoad.poolOpen) pool connections (idle \(idle.openFiles) with \(idle.poolOpen))"))

        let stale = lastMessages.enumerated().filter { seconds - $0.element > 20 }
        verdicts.append(
            Verdict(
                passed: stale.isEmpty && !lastMessages.isEmpty,
                text: "event streams receiving at the end: \(lastMessages.count - stale.count) of \(lastMessages.count)"))
        return verdicts
    }

    /// RSS after warm-up grows less than 1 MiB per 10 minutes (`slope`, KiB per 10 minutes). Malloc
    /// keeps up to 8 MiB freed before a trim gives it back, so RSS moves by a MiB or two between
    /// samples: a window under 10 minutes cannot resolve that rate, and is held to growing less
    /// than 2 MiB over the window instead (a leak like one request body per request shows at once).
    static func memoryVerdict(slope: Double, samples: Int, window: Double) -> Verdict {
        guard samples >= 3 else { return Verdict(passed: false, text: "RSS after warm-up: only \(samples) samples") }
        if window >= 600 {
            return Verdict(
                passed: slope < 1024,
                text: String(
                    format: "RSS after warm-up: %+.0f KiB per 10 minutes over %.0f s (Theil–Sen, %d samples; < 1024)", slope, window,
                    samples))
        }
        let growth = slope * window / 600
        return Verdict(
            passed: growth < 2048,
            text: String(
                format: "RSS after warm-up: %+.0f KiB over %.0f s (%+.0f KiB per 10 minutes, Theil–Sen, %d samples); a window under "
                    + "10 minutes is held to < 2048 KiB", growth, window, slope, samples))
    }

    /// Where the RSS trend starts: `configuration.warmUp`, or 10 s after the first fault of each kind ended.
    private func warmUp(faults: [Fault], seconds: Double) -> Double {
        if let warmUp = configuration.warmUp { return warmUp.secondsDouble }
        let firstEnds = Dictionary(grouping: faults, by: \.kind).values.compactMap { $0.map(\.end).min() }
        return min(max(30, (firstEnds.max() ?? 0) + 10), seconds / 2)
    }

    /// The failures that are not a 503 or 504 from the start of a fault until `grace` after its end.
    static func unexpected(_ failures: [SoakTally.Failure], faults: [Fault], grace: Double) -> [SoakTally.Failure] {
        failures.filter { failure in
            !([503, 504].contains(failure.status) && faults.contains { failure.at >= $0.start && failure.at <= $0.end + grace })
        }
    }

    /// Reads the gateway every 100 ms until `condition` holds; throws after `limit`.
    private func reading(
        within limit: Duration, _ what: String, pid: Int32, target: LoadTarget, until condition: (SoakSample) -> Bool
    ) throws(LoadTestError) -> SoakSample {
        let deadline = ContinuousClock.now + limit
        while true {
            let sample = SoakSample.read(pid: pid, at: 0, statsTarget: target)
            if condition(sample) { return sample }
            guard ContinuousClock.now < deadline else { throw LoadTestError("gave up waiting for \(what) after \(limit)") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// The trend of `points`: the median of the slopes between every two of them (Theil–Sen), so
    /// one reading taken just before a trim does not decide it the way it would a least-squares fit.
    static func slope(_ points: [(Double, Double)]) -> Double {
        var slopes: [Double] = []
        for i in points.indices {
            for j in points.indices where j > i && points[j].0 != points[i].0 {
                slopes.append((points[j].1 - points[i].1) / (points[j].0 - points[i].0))
            }
        }
        guard !slopes.isEmpty else { return 0 }
        slopes.sort()
        let middle = slopes.count / 2
        return slopes.count % 2 == 1 ? slopes[middle] : (slopes[middle - 1] + slopes[middle]) / 2
    }
}
