import Foundation
import LoadTesting
import Synchronization
import TestSupport
import Testing

/// Faults injected into real processes on loopback (the built `redis-gateway`, `redis-server`) under
/// a bounded load. Each test asserts what must hold — only clean statuses, no hang, recovery, the
/// pool whole afterwards, no descriptor growth — and writes its observed figures for
/// `docs/fault-tests.md` (see `scripts/fault-report.sh`).
///
/// Serialized: the figures are timings, and two fault tests at once on two cores would blur them.
@Suite(.serialized) struct FaultScenarioTests {
    /// Reads: a hit, or a miss once Redis restarted empty.
    static func readSucceeded(_ sample: LoadRecorder.Sample) -> Bool { sample.status == 200 || sample.status == 404 }
    static let cleanFailures: Set<Int> = [503, 504]

    /// Waits until the gateway's pool is whole: nothing lent, no more open than the maximum, and
    /// the descriptors besides pooled connections back to `baseline`.
    func expectWholeAfterwards(_ gateway: GatewayProcess, baseline: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            eventually(within: .seconds(10)) { gateway.stat("in_use") == 0 && gateway.stat("open") <= gateway.stat("max") },
            "pool whole: \(gateway.poolStats())", sourceLocation: sourceLocation)
        #expect(
            eventually(within: .seconds(10)) { gateway.descriptorsBesidesThePool() <= baseline },
            "descriptors besides the pool: \(gateway.descriptorsBesidesThePool()) > \(baseline)", sourceLocation: sourceLocation)
    }

    func expectOnlyCleanStatuses(_ samples: [LoadRecorder.Sample], sourceLocation: SourceLocation = #_sourceLocation) {
        let unclean = samples.filter { !Self.readSucceeded($0) && !Self.cleanFailures.contains($0.status) && $0.status != 201 }
        #expect(unclean.count == 0, "unclean outcomes: \(unclean.prefix(5))", sourceLocation: sourceLocation)
    }

    // MARK: Redis killed and restarted

    @Test(.timeLimit(.minutes(2)))
    func redisKilledUnderLoadAndRestarted() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(redisURL: redis.url, environment: ["GATEWAY_MAX_CONNECTIONS": "8"])
        #expect(eventually { gateway.stat("idle") == 2 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        let load = LoadRecorder(port: gateway.port, threads: 6) { _ in ("GET", "/cache/fault-key", "") }
        load.start()
        load.wait(until: 0.5)
        let killedAt = load.now
        redis.stop()  // SIGKILL
        load.wait(until: killedAt + 1.0)
        let restartedAt = load.now
        redis.start()
        #expect(
            eventually(within: .seconds(10)) {
                load.snapshot().firstSuccess(startingAfter: restartedAt, isSuccess: Self.readSucceeded) != nil
            })
        load.wait(until: load.now + 0.3)
        let samples = load.stop()

        expectOnlyCleanStatuses(samples)
        let detected = try #require(samples.firstFailure(after: killedAt, isSuccess: Self.readSucceeded))
        let recovered = try #require(samples.firstSuccess(startingAfter: restartedAt, isSuccess: Self.readSucceeded))
        let during = samples.ending(in: killedAt...recovered.end)
        let failed = during.filter { !Self.readSucceeded($0) }
        #expect(recovered.end - restartedAt < 6, "back within the probe backoff cap")
        #expect(samples.longestLatency < 2.5, "no request hangs: longest \(samples.longestLatency) s")
        let fastFailures = failed.filter { $0.latency < 0.05 }.count
        #expect(fastFailures * 2 > failed.count, "most failures while down are immediate (\(fastFailures) of \(failed.count))")
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario: "Redis killed (SIGKILL) under load, restarted 1 s later",
            detect: ms(detected.end - killedAt), recover: ms(recovered.end - restartedAt) + " after restart",
            errors: "\(failed.count) of \(during.count) (503)",
            notes:
                "\(fastFailures) of the 503s answered in < 50 ms (pool down, fast failure); longest request \(ms(samples.longestLatency))"
        ).write()
    }

    // MARK: Redis stalls

    @Test(.timeLimit(.minutes(2)))
    func clientPauseLongerThanTheSocketTimeout() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(redisURL: redis.url, environment: ["GATEWAY_SOCKET_TIMEOUT_MS": "200"])
        #expect(eventually { gateway.stat("idle") == 2 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        let load = LoadRecorder(port: gateway.port, threads: 4) { _ in ("GET", "/cache/fault-key", "") }
        load.start()
        load.wait(until: 0.5)
        let pausedAt = load.now
        #expect(redis.command(["CLIENT", "PAUSE", "1000", "ALL"]) == "+OK")
        let resumesAt = pausedAt + 1.0
        // Redis lifts a pause in its periodic cron (10 times a second), so up to ~100 ms after the
        // 1000 ms: a PING sent now is answered the moment it really does.
        let answeredAgain = Mutex<Double>(0)
        let pinger = TestThread {
            _ = redis.command(["PING"])
            answeredAgain.withLock { $0 = load.now }
        }
        pinger.start()
        #expect(
            eventually(within: .seconds(10)) {
                load.snapshot().firstSuccess(startingAfter: resumesAt, isSuccess: Self.readSucceeded) != nil
            })
        load.wait(until: load.now + 0.3)
        let samples = load.stop()
        pinger.join()
        let resumedAt = answeredAgain.withLock { $0 }

        expectOnlyCleanStatuses(samples)
        let detected = try #require(samples.firstFailure(after: pausedAt, isSuccess: Self.readSucceeded))
        let recovered = try #require(samples.filter { Self.readSucceeded($0) && $0.end >= resumedAt }.min { $0.end < $1.end })
        let during = samples.ending(in: pausedAt...recovered.end)
        let timeouts = during.filter { $0.status == 504 }.count
        let unavailable = during.filter { $0.status == 503 }.count
        #expect(detected.end - pausedAt < 0.5, "a stall is seen within the socket timeout")
        #expect(unavailable == 0, "a pause is a stall, not an outage: no 503")
        let late = during.filter { $0.status == 504 && $0.start > pausedAt + 0.25 }
        #expect(late.isEmpty, "504s only for commands sent before the stall was seen: \(late.prefix(3))")
        #expect(recovered.end - resumedAt < 0.25, "waiting requests proceed when Redis answers again")
        #expect(samples.longestLatency < 2.5, "no request hangs: longest \(samples.longestLatency) s")
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario: "`CLIENT PAUSE 1000 ALL` (socket timeout 200 ms)",
            detect: ms(detected.end - pausedAt),
            recover: ms(recovered.end - resumedAt) + " after Redis answered again (\(ms(resumedAt - pausedAt)) after the pause began)",
            errors: "\(timeouts + unavailable) of \(during.count) (\(timeouts)× 504, \(unavailable)× 503)",
            notes:
                "timed-out connections discarded; requests that arrived during the pause waited (health check or dial) and were answered when it ended; longest request \(ms(samples.longestLatency))"
        ).write()
    }

    @Test(.timeLimit(.minutes(2)))
    func debugSleepOnOneConnectionWhileOthersKeepServing() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(
            redisURL: redis.url, environment: ["GATEWAY_SOCKET_TIMEOUT_MS": "1000", "GATEWAY_ALLOW_COMMANDS": "DEBUG"])
        #expect(eventually { gateway.stat("idle") == 2 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        let load = LoadRecorder(port: gateway.port, threads: 4) { _ in ("GET", "/cache/fault-key", "") }
        load.start()
        load.wait(until: 0.5)
        let sleptAt = load.now
        let sleeper = HTTPTestClient(port: gateway.port).request("POST", "/", text: #"["DEBUG","SLEEP","0.5"]"#)
        let sleptFor = load.now - sleptAt
        load.wait(until: load.now + 0.5)
        let samples = load.stop()

        #expect(sleeper?.status == 200 && sleeper?.text == #"{"result":"OK"}"#)
        let failed = samples.filter { !Self.readSucceeded($0) }
        #expect(failed.count == 0, "others wait behind the sleeping Redis but none fails: \(failed.prefix(3))")
        let stalled = samples.ending(in: sleptAt...(sleptAt + sleptFor + 0.1)).map(\.latency).max() ?? 0
        #expect(stalled < 1.0)
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario: "`DEBUG SLEEP 0.5` on one connection (socket timeout 1 s)",
            detect: "-", recover: "at once when Redis wakes", errors: "0 of \(samples.count)",
            notes:
                "the sleeping request answered after \(ms(sleptFor)); Redis is single-threaded, so the others waited up to \(ms(stalled)) and none failed"
        ).write()
    }

    // MARK: Connections dropped

    @Test(.timeLimit(.minutes(2)))
    func clientKillTypeNormalDropsEveryPooledConnection() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(redisURL: redis.url, environment: ["GATEWAY_MIN_IDLE": "4"])
        #expect(eventually { gateway.stat("idle") == 4 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        let load = LoadRecorder(port: gateway.port, threads: 4) { _ in ("GET", "/cache/fault-key", "") }
        load.start()
        load.wait(until: 0.5)
        let killedAt = load.now
        let killed = Int(redis.command(["CLIENT", "KILL", "TYPE", "normal"])?.dropFirst() ?? "") ?? 0
        load.wait(until: killedAt + 0.5)
        let samples = load.stop()

        #expect(killed >= 4, "every pooled connection was cut (\(killed))")
        let failed = samples.filter { !Self.readSucceeded($0) }
        #expect(failed.count == 0, "reads re-sent on fresh connections: \(failed.prefix(3))")
        let after = samples.filter { $0.start >= killedAt }
        let slowest = after.prefix(20).map(\.latency).max() ?? 0
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario: "`CLIENT KILL TYPE normal` (\(killed) pooled connections cut at once)",
            detect: "at the next use of each (socket peeked before writing)", recover: "at once", errors: "0 of \(samples.count)",
            notes: "dead connections found before sending, reads in flight re-sent; slowest of the next 20 requests \(ms(slowest))"
        ).write()
    }

    // MARK: Limits

    @Test(.timeLimit(.minutes(2)))
    func poolExhaustionWithSlowCommands() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(
            redisURL: redis.url,
            environment: [
                "GATEWAY_MAX_CONNECTIONS": "2", "GATEWAY_WAIT_TIMEOUT_MS": "300", "GATEWAY_SOCKET_TIMEOUT_MS": "2000",
                "GATEWAY_CLIENT_NAME": "fault-exhaust",
                // A thread per connection: no request queues behind another's BLPOP for an HTTP worker,
                // so the 503 latency is the pool's wait bound alone.
                "GATEWAY_THREADS": "0",
            ])
        #expect(eventually { gateway.stat("idle") == 2 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        let running = Atomic<Bool>(true)
        let mostSeen = Atomic<Int>(0)
        let sampler = TestThread {
            while running.load(ordering: .relaxed) { mostSeen.max(redis.clientCount(named: "fault-exhaust"), ordering: .relaxed) }
        }
        sampler.start()
        let load = LoadRecorder(port: gateway.port, threads: 8) { _ in ("POST", "/", #"["BLPOP","fault-empty-list","1"]"#) }
        load.start()
        load.wait(until: 3)
        let samples = load.stop()
        running.store(false, ordering: .relaxed)
        sampler.join()

        let served = samples.filter { $0.status == 200 }
        let refused = samples.filter { $0.status == 503 }
        #expect(served.count + refused.count == samples.count, "only 200 or 503: \(Set(samples.map(\.status)))")
        #expect(!served.isEmpty && !refused.isEmpty)
        let unexplained = refused.filter { $0.retryAfter != "1" || !$0.body.contains("pool exhausted") }
        #expect(unexplained.count == 0, "\(unexplained.prefix(2))")
        let waits = refused.map(\.latency)
        let (shortest, longest) = (waits.min() ?? 0, waits.max() ?? 9)
        #expect(shortest >= 0.29 && longest < 0.6, "503 after the 300 ms wait bound: \(shortest)…\(longest)")
        #expect(mostSeen.load(ordering: .relaxed) <= 2, "Redis never saw more than max: \(mostSeen.load(ordering: .relaxed))")
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario: "pool exhaustion: 8 clients, `BLPOP … 1` each, max 2 connections, wait bound 300 ms",
            detect: ms(waits.min() ?? 0) + " (the wait bound)", recover: "-",
            errors: "\(refused.count) of \(samples.count) (503 + Retry-After)",
            notes:
                "most Redis connections seen \(mostSeen.load(ordering: .relaxed)); 503s answered in \(ms(waits.min() ?? 0))–\(ms(waits.max() ?? 0))"
        ).write()
    }

    @Test(.timeLimit(.minutes(2)))
    func redisMaxclientsReached() throws {
        let redis = RedisServer(extraArguments: ["--maxclients", "5"])
        // At most 4 pooled connections: once the hogs leave, the pool fits under maxclients again.
        let gateway = try GatewayProcess(redisURL: redis.url, environment: ["GATEWAY_MAX_CONNECTIONS": "4"])
        #expect(eventually { gateway.stat("idle") == 2 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        // Three hogs fill Redis to 5 of 5 clients.
        var hogs = (0..<3).compactMap { _ in BlockingSocket(port: redis.port) }
        #expect(hogs.count == 3)
        #expect(eventually { redis.command(["PING"])?.contains("max number of clients") == true }, "Redis is full")
        // Each request holds its connection for 50 ms (BLPOP on an empty list, Redis itself stays
        // free), so six clients need more connections than the two open ones: the pool must dial.
        let load = LoadRecorder(port: gateway.port, threads: 6) { _ in ("POST", "/", #"["BLPOP","maxclients-empty","0.05"]"#) }
        load.start()
        load.wait(until: 1.0)
        let freedAt = load.now
        // An optimised build may release a local right after its last read: the hogs must stay
        // open until here, so they are explicitly kept alive up to this point.
        withExtendedLifetime(hogs) {}
        hogs.removeAll()
        // Recovered when a connect succeeds again (the two warm-up connects were the only ones before).
        #expect(eventually(within: .seconds(10)) { gateway.stat("connects") > 2 })
        let recoveredAt = load.now
        load.wait(until: load.now + 0.5)
        let samples = load.stop()

        expectOnlyCleanStatuses(samples)
        let during = samples.filter { $0.end < freedAt }
        let refused = during.filter { $0.status == 503 }
        let unexplained = refused.filter { !$0.body.contains("max number of clients") }
        #expect(unexplained.count == 0, "\(unexplained.count) of \(refused.count): \(unexplained.first?.body ?? "")")
        let served = during.filter(Self.readSucceeded)
        #expect(!served.isEmpty, "the connections already open keep serving")
        #expect(
            gateway.stat("connect_failures") >= 1,
            "the load needed more connections than Redis would take: \(gateway.poolStats()) \(samples.prefix(3))")
        let notRecovered = samples.filter { $0.start > recoveredAt + 0.05 && !Self.readSucceeded($0) }
        #expect(
            notRecovered.count == 0, "\(notRecovered.count) failures after the clients left: \(notRecovered.first.map { "\($0)" } ?? "")")
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario:
                "Redis `maxclients` reached (2 pooled connections open, 6 clients each holding one 50 ms, new connections refused for 1 s)",
            detect: "first dial refused", recover: ms(recoveredAt - freedAt) + " after clients left (next probe)",
            errors: "\(refused.count) of \(during.count) (503 with Redis' message)",
            notes: "\(served.count) requests served by the open connections meanwhile; the pool counts as down while dials fail"
        ).write()
    }

    // MARK: HTTP side

    @Test(.timeLimit(.minutes(3)))
    func aSlowlorisFloodOfTenThousandConnections() throws {
        try raiseDescriptorLimit(to: 2048)
        let redis = RedisServer()
        let gateway = try GatewayProcess(
            redisURL: redis.url, environment: ["GATEWAY_PER_ADDRESS_CONNECTION_LIMIT": "64", "GATEWAY_CONNECTION_TIMEOUT_S": "5"])
        #expect(eventually { gateway.stat("idle") == 2 })
        let baseline = gateway.settledDescriptorsBesidesThePool()
        // Honest clients come from another loopback address.
        let load = LoadRecorder(port: gateway.port, threads: 4, sourceAddress: "127.0.0.2") { _ in ("GET", "/cache/fault-key", "") }
        load.start()
        load.wait(until: 0.3)
        let floodStart = load.now
        let flood = Mutex<[BlockingSocket]>([])
        let opened = Atomic<Int>(0)
        let openers = (0..<4).map { _ in
            TestThread {
                var mine: [BlockingSocket] = []
                for attempt in 1...2500 {
                    guard let socket = BlockingSocket(port: gateway.port, timeoutSeconds: 2) else { continue }
                    socket.write(Array("GET /cache/x HTTP/1.1\r\nHost: a\r\nX-Slow: ".utf8))  // never finished
                    opened.add(1, ordering: .relaxed)
                    mine.append(socket)
                    // Let go of the ones the gateway already closed: the flood's own descriptors stay
                    // bounded (the gateway holds at most 64), so this runs under a modest ulimit too.
                    if attempt % 250 == 0 { mine.removeAll { $0.isClosedByPeer } }
                }
                flood.withLock { $0.append(contentsOf: mine) }
            }
        }
        openers.forEach { $0.start() }
        openers.forEach { $0.join() }
        let floodOpened = load.now
        let peakDescriptors = gateway.openFileDescriptors
        load.wait(until: floodOpened + 1.0)
        let stillHeld = flood.withLock { $0.filter { !$0.isClosedByPeer }.count }
        let samples = load.stop()
        flood.withLock { $0.removeAll() }

        let during = samples.filter { $0.start >= floodStart }
        let failed = during.filter { !Self.readSucceeded($0) }
        #expect(opened.load(ordering: .relaxed) == 10_000, "the flood connected \(opened.load(ordering: .relaxed)) times")
        #expect(stillHeld <= 64, "at most the per-address limit is held: \(stillHeld)")
        #expect(failed.count == 0, "honest clients are served throughout: \(failed.prefix(3))")
        #expect(peakDescriptors < 400, "the gateway never held the flood: \(peakDescriptors) descriptors")
        let latencies = during.map(\.latency).sorted()
        let p99 = latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        expectWholeAfterwards(gateway, baseline: baseline)
        FaultReport(
            scenario: "slowloris: 10,000 half-sent requests from one address (per-address limit 64)",
            detect: "-", recover: "-", errors: "0 of \(during.count) honest requests",
            notes:
                "flood opened in \(ms(floodOpened - floodStart)); \(stillHeld) held by the gateway; peak \(peakDescriptors) descriptors; honest p99 \(ms(p99))"
        ).write()
    }

    /// Connects past `GATEWAY_CONNECTION_LIMIT` used to deadlock both HTTP threads inside
    /// libmicrohttpd for good. Twenty rounds of limit + 2,000 idle connects: the ones over the limit
    /// get a 503 and are closed by the accepting thread, an honest client is served after every
    /// round, and SIGTERM still exits 0.
    @Test(.timeLimit(.minutes(3)))
    func connectsOverTheConnectionLimitAreRefusedAndNeverStopTheGateway() throws {
        try raiseDescriptorLimit(to: 4096)
        let redis = RedisServer()
        let limit = 200
        let gateway = try GatewayProcess(
            redisURL: redis.url, environment: ["GATEWAY_CONNECTION_LIMIT": String(limit), "GATEWAY_CONNECTION_TIMEOUT_S": "30"])
        let client = HTTPTestClient(port: gateway.port)
        let started = ContinuousClock.now
        let opened = Atomic<Int>(0)
        for round in 1...20 {
            let held = Mutex<[BlockingSocket]>([])
            let openers = (0..<4).map { _ in
                TestThread {
                    var mine: [BlockingSocket] = []
                    for _ in 0..<((limit + 2000) / 4) {
                        if let socket = BlockingSocket(port: gateway.port, timeoutSeconds: 2) {
                            mine.append(socket)
                            opened.add(1, ordering: .relaxed)
                        }
                    }
                    held.withLock { $0.append(contentsOf: mine) }
                }
            }
            openers.forEach { $0.start() }
            openers.forEach { $0.join() }
            if round == 1 {
                // One over the limit reads the gateway's 503 before the close.
                let over = try #require(BlockingSocket(port: gateway.port, timeoutSeconds: 2))
                let response = HTTPTestClient.parse(over.readToEnd())
                #expect(response?.status == 503, "over the limit: \(String(describing: response))")
                #expect(response?.text.contains("connection limit") == true)
            }
            held.withLock { $0.removeAll() }  // closes them all
            #expect(
                eventually(within: .seconds(10)) { client.request("GET", "/healthz")?.status == 200 },
                "round \(round): an honest client is served: \(gateway.log.suffix(400))")
        }
        let elapsed = ContinuousClock.now - started
        #expect(opened.load(ordering: .relaxed) == 20 * (limit + 2000), "every connect went through: \(opened.load(ordering: .relaxed))")
        #expect(client.request("PUT", "/cache/flood-key", text: "v")?.status == 201)
        let status = gateway.terminate(within: .seconds(15))
        #expect(status == 0, "SIGTERM after the flood: exit \(String(describing: status)) \(gateway.log.suffix(400))")
        FaultReport(
            scenario: "connect flood: 20 rounds of limit (200) + 2,000 idle connections (\(opened.load(ordering: .relaxed)) connects)",
            detect: "-", recover: "-", errors: "0 honest requests failed",
            notes:
                "over the limit answered 503 and closed; \(ms(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)) for all rounds; SIGTERM exit \(status.map(String.init) ?? "none")"
        ).write()
    }

    @Test(.timeLimit(.minutes(2)))
    func sigtermUnderLoadDrainsWithoutFailingAnAcceptedRequest() throws {
        let redis = RedisServer()
        let gateway = try GatewayProcess(redisURL: redis.url, environment: ["GATEWAY_SHUTDOWN_GRACE_MS": "5000"])
        let threads = 6
        let load = LoadRecorder(port: gateway.port, threads: threads) { n in ("PUT", "/cache/drain-\(n % 50)", "value-\(n)") }
        load.start()
        load.wait(until: 0.5)
        let signalledAt = load.now
        let status = gateway.terminate(within: .seconds(15))
        let exitedAt = load.now
        load.wait(until: exitedAt + 0.2)
        let samples = load.stop()

        #expect(status == 0, "exit status \(String(describing: status)): \(gateway.log.suffix(500))")
        let answered = samples.filter { $0.status > 0 }
        let failedAnswers = answered.filter { $0.status != 200 && $0.status != 201 }
        #expect(failedAnswers.count == 0, "every answered request succeeded: \(failedAnswers.prefix(3)) \(gateway.log.suffix(600))")
        // A connection the kernel queued just as the listener closed is reset before the server ever
        // reads it: at most one per client thread. Anything more would be a dropped request.
        let reset = samples.filter { $0.status == LoadRecorder.noResponse }
        #expect(reset.count <= threads, "\(reset.count) requests lost")
        let acceptedAfterExit = samples.filter { $0.start > exitedAt && $0.status != LoadRecorder.refused }
        #expect(acceptedAfterExit.count == 0, "nothing is accepted after exit: \(acceptedAfterExit.prefix(3))")
        #expect(!gateway.log.contains("drain deadline passed"), "everything finished within the grace period")
        FaultReport(
            scenario: "SIGTERM under load (6 clients writing)",
            detect: "-", recover: "-", errors: "0 of \(answered.count) answered requests failed",
            notes: "exit 0 after \(ms(exitedAt - signalledAt)); \(reset.count) connections reset in the listen queue before being read"
        ).write()
    }

    private func raiseDescriptorLimit(to wanted: rlim_t) throws {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_max >= wanted else {
            throw FaultTestError(
                "the slowloris test needs \(wanted) descriptors; the hard limit is \(limit.rlim_max) (raise it with ulimit -Hn)")
        }
        limit.rlim_cur = max(limit.rlim_cur, wanted)
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}
