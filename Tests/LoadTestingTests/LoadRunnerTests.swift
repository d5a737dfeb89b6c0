import ConnectionPool
import Foundation
import GatewayService
import HTTPServer
import Histogram
import LoadTesting
import Logging
import RedisClient
import Synchronization
import TestSupport
import Testing

/// The load client against a real gateway and Redis: a correctness test, not a speed test.
@Suite struct LoadRunnerTests {
    @Test(.timeLimit(.minutes(2)))
    func aMixedRunSucceedsAndLeavesThePoolWhole() throws {
        let redis = RedisServer.shared
        let name = "load-\(uniqueKey().filter(\.isLetter).prefix(8))"
        var configuration = GatewayConfiguration()
        configuration.redis.url = try RedisURL(parsing: redis.url)
        configuration.redis.clientName = name
        configuration.http.port = 0
        configuration.http.workerThreads = 8
        configuration.pool.maxConnections = 6
        configuration.session.databasePath =
            FileManager.default.temporaryDirectory.appendingPathComponent("load-\(UUID().uuidString).sqlite").path
        let gateway = try Gateway(configuration: configuration, logger: Logger(label: "load-test"))
        defer { gateway.shutdown() }

        // Sample /pool/stats over HTTP and Redis' CLIENT LIST while the load runs.
        let running = Atomic<Bool>(true)
        let maxOpen = Atomic<Int>(0)
        let maxClients = Atomic<Int>(0)
        let samples = Atomic<Int>(0)
        let client = HTTPTestClient(port: gateway.port)
        let sampler = TestThread {
            while running.load(ordering: .relaxed) {
                if let stats = client.request("GET", "/pool/stats"),
                    let json = try? JSONSerialization.jsonObject(with: Data(stats.body)) as? [String: Any],
                    let open = json["open"] as? Int
                {
                    maxOpen.max(open, ordering: .relaxed)
                    samples.add(1, ordering: .relaxed)
                }
                maxClients.max(redis.clientCount(named: name), ordering: .relaxed)
            }
        }
        sampler.start()
        var load = LoadConfiguration(
            target: try LoadTarget(parsing: "http://127.0.0.1:\(gateway.port)"), scenario: .mixed(keys: 200, readRatio: 0.8))
        load.connections = 50
        load.maxRequests = 2000
        load.keyPrefix = "\(uniqueKey()):"
        let report = try LoadRunner(configuration: load).run()
        running.store(false, ordering: .relaxed)
        sampler.join()

        #expect(report.requests == 2000)
        #expect(report.successes == 2000, "failures: \(report.failures)")
        #expect(report.latency.totalCount == 2000)
        #expect(samples.load(ordering: .relaxed) > 0)
        #expect(maxOpen.load(ordering: .relaxed) <= 6)
        #expect(maxClients.load(ordering: .relaxed) <= 6)
        let stats = gateway.pool!.statistics
        #expect(stats.inUse == 0 && stats.waiting == 0 && stats.open <= 6)
    }

    @Test func theSessionScenarioLogsInAndReadsData() throws {
        let redis = RedisServer()  // user keys have fixed names (`user_data:{id}`): keep them apart from other tests
        var configuration = GatewayConfiguration()
        configuration.redis.url = try RedisURL(parsing: redis.url)
        configuration.http.port = 0
        configuration.session.databasePath =
            FileManager.default.temporaryDirectory.appendingPathComponent("load-\(UUID().uuidString).sqlite").path
        configuration.session.seedUsers = 20
        configuration.session.passwordRounds = 1000
        configuration.session.loginLimitPerAddress = 1000
        let gateway = try Gateway(configuration: configuration, logger: Logger(label: "load-test"))
        defer { gateway.shutdown() }
        var load = LoadConfiguration(target: try LoadTarget(parsing: "http://127.0.0.1:\(gateway.port)"), scenario: .sessionData(users: 20))
        load.maxRequests = 500
        load.connections = 10
        let report = try LoadRunner(configuration: load).run()
        #expect(report.successes == 500, "failures: \(report.failures)")
        var tooMany = load
        tooMany.scenario = .sessionData(users: 21)
        #expect {
            try LoadRunner(configuration: tooMany).run()
        } throws: { error in
            (error as? LoadTestError)?.description.contains("logging in user 21 failed") == true
        }
    }

    @Test func aDeadTargetIsReportedAsFailuresNotAHang() throws {
        var load = LoadConfiguration(target: try LoadTarget(parsing: "http://127.0.0.1:\(BlockingSocket.freePort())"), scenario: .healthz)
        load.connections = 4
        load.maxRequests = 20
        let report = try LoadRunner(configuration: load).run()
        #expect(report.requests == 20 && report.successes == 0)
        #expect(report.failures["connection refused"] == 20)
    }
}
