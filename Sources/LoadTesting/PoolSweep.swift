import CoreUtilities
import Foundation

/// Runs one scenario against gateways it starts itself, across pool sizes and concurrency levels,
/// plus the connection-per-request demonstration mode, and writes a report with a chart: the
/// measured answer to "how big should my pool be".
public struct PoolSweep: Sendable {
    /// What to sweep.
    public struct Configuration: Sendable {
        /// The `redis-gateway` executable to start.
        public var gatewayBinary: String
        /// The Redis every gateway uses (loopback).
        public var redisURL: String
        /// Pool sizes (`GATEWAY_MAX_CONNECTIONS`) to try.
        public var poolSizes: [Int] = [1, 2, 4, 8, 16, 32]
        /// Client connections to try.
        public var concurrencies: [Int] = [50, 200]
        /// The scenario for every point.
        public var scenario: Scenario = .mixed(keys: 1000, readRatio: 0.9)
        /// How long each point runs.
        public var duration: Duration = .seconds(5)
        /// Also run the connection-per-request mode at each concurrency.
        public var includePerRequest = true
        /// HTTP worker threads of each gateway (`GATEWAY_THREADS`).
        public var gatewayThreads: Int?

        /// A sweep of `gatewayBinary` over `redisURL` with the defaults.
        public init(gatewayBinary: String, redisURL: String) {
            self.gatewayBinary = gatewayBinary
            self.redisURL = redisURL
        }
    }

    /// One measured point.
    public struct Point: Sendable {
        /// `pooled` or `per-request`.
        public let mode: String
        public let poolSize: Int
        public let connections: Int
        public let requestsPerSecond: Double
        public let p50: Double
        public let p99: Double
        public let successRate: Double
    }

    public let configuration: Configuration

    /// A sweep as `configuration` says.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Runs every point; `log` receives one line per point.
    public func run(log: (String) -> Void) throws(LoadTestError) -> [Point] {
        var points: [Point] = []
        for connections in configuration.concurrencies {
            var runs = configuration.poolSizes.map { ("pooled", $0) }
            if configuration.includePerRequest { runs.append(("per-request", connections)) }
            for (mode, poolSize) in runs {
                let point = try measure(mode: mode, poolSize: poolSize, connections: connections)
                log(
                    "\(mode) pool \(poolSize), \(connections) connections: \(format(point.requestsPerSecond, 0)) requests/s, "
                        + "p99 \(format(point.p99, 2)) ms, \(format(point.successRate * 100, 2)) % ok")
                points.append(point)
            }
        }
        return points
    }

    private func measure(mode: String, poolSize: Int, connections: Int) throws(LoadTestError) -> Point {
        guard let port = LoopbackPort.free() else { throw LoadTestError("no free loopback port") }
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = configuration.redisURL
        environment["GATEWAY_PORT"] = String(port)
        environment["GATEWAY_HOST"] = "127.0.0.1"
        environment["GATEWAY_MAX_CONNECTIONS"] = String(poolSize)
        environment["GATEWAY_POOL_MODE"] = mode
        environment["GATEWAY_CONNECTION_LIMIT"] = String(max(1024, connections * 2))
        environment["GATEWAY_LOG_LEVEL"] = "error"
        environment["GATEWAY_TOKENS"] = nil
        environment["GATEWAY_READONLY_TOKENS"] = nil
        if let threads = configuration.gatewayThreads { environment["GATEWAY_THREADS"] = String(threads) }
        let gateway = try GatewayProcess(
            binary: configuration.gatewayBinary, environment: environment, port: port, readyWithin: .seconds(5))
        defer { gateway.terminate() }
        var load = LoadConfiguration(target: try LoadTarget(parsing: "http://127.0.0.1:\(port)"), scenario: configuration.scenario)
        load.connections = connections
        load.maxRequests = nil
        load.duration = configuration.duration
        let report = try LoadRunner(configuration: load).run()
        return Point(
            mode: mode, poolSize: poolSize, connections: connections, requestsPerSecond: report.requestsPerSecond,
            p50: report.latencyMilliseconds(50), p99: report.latencyMilliseconds(99), successRate: report.successRate)
    }
}
