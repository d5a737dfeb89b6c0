import ArgumentParser
import CoreUtilities
import Foundation
import LoadTesting

/// `gateway-load`: the load-test client for redis-gateway.
@main
struct GatewayLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-load",
        abstract: "Bounded HTTP load against redis-gateway: throughput, latency percentiles, success rate, pool sizing.",
        subcommands: [RunCommand.self, SweepCommand.self, SoakCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// Options shared by `run` and `sweep`: the scenario.
struct ScenarioOptions: ParsableArguments {
    @Option(help: "cache-get, cache-set, mixed, pipeline, session-data, healthz or pubsub")
    var scenario: String = "mixed"
    @Option(help: "Keys the cache scenarios spread over")
    var keys: Int = 1000
    @Option(help: "Share of GETs in the mixed scenario, 0...1")
    var readRatio: Double = 0.9
    @Option(help: "Commands per /pipeline request")
    var batchSize: Int = 100
    @Option(help: "Logged-in users of the session-data scenario")
    var users: Int = 1000

    func make() throws -> Scenario {
        switch scenario {
        case "cache-get": return .cacheGet(keys: max(keys, 1))
        case "cache-set": return .cacheSet(keys: max(keys, 1))
        case "mixed":
            guard (0...1).contains(readRatio) else { throw ValidationError("--read-ratio must be within 0...1") }
            return .mixed(keys: max(keys, 1), readRatio: readRatio)
        case "pipeline": return .pipeline(batchSize: max(batchSize, 1))
        case "session-data": return .sessionData(users: max(users, 1))
        case "healthz": return .healthz
        default: throw ValidationError("unknown scenario '\(scenario)'")
        }
    }
}

/// `gateway-load run`: one bounded run against a running gateway.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "One bounded run against a running gateway.")

    @Option(help: "The gateway, http://HOST:PORT (loopback only unless --allow-remote)")
    var target: String = "http://127.0.0.1:8080"
    @OptionGroup var scenario: ScenarioOptions
    @Option(help: "Keep-alive connections")
    var connections: Int = 50
    @Option(help: "Event-loop threads")
    var threads: Int = 1
    @Option(help: "Stop after this many requests (0: only --duration bounds the run)")
    var requests: Int = 2000
    @Option(help: "Stop after this many seconds")
    var duration: Double = 60
    @Option(help: "Bytes per value written")
    var valueBytes: Int = 100
    @Option(help: "Bearer token, if the gateway has tokens (env GATEWAY_LOAD_TOKEN)")
    var token: String?
    @Flag(help: "Allow a target outside 127.0.0.0/8")
    var allowRemote = false
    @Flag(help: "Print the summary as JSON")
    var json = false
    @OptionGroup var pubsub: PubSubOptions

    func run() throws {
        if scenario.scenario == "pubsub" { return try runPubSub() }
        guard connections > 0, threads > 0, duration > 0 else {
            throw ValidationError("connections, threads and duration must be positive")
        }
        var configuration = LoadConfiguration(
            target: try LoadTarget(parsing: target, allowRemote: allowRemote), scenario: try scenario.make())
        configuration.connections = connections
        configuration.threads = threads
        configuration.maxRequests = requests > 0 ? requests : nil
        configuration.duration = .milliseconds(Int64(duration * 1000))
        configuration.valueBytes = max(valueBytes, 1)
        configuration.token = token ?? ProcessInfo.processInfo.environment["GATEWAY_LOAD_TOKEN"]
        let live = isatty(STDERR_FILENO) == 1 && !json
        let progress: (@Sendable (Int, Int, Double) -> Void)? = live ? ProgressLine.show : nil
        let report = try LoadRunner(configuration: configuration).run(progress: progress)
        if live { ProgressLine.clear() }
        if json {
            print(report.json(scenario: configuration.scenario.name, connections: connections))
        } else {
            print(report.summary(title: "\(configuration.scenario.name) against \(configuration.target), \(connections) connections"))
        }
        if report.requests == 0 { throw ExitCode(2) }
    }

    /// `--scenario pubsub`: streams and a paced publisher; delivery latency and loss.
    private func runPubSub() throws {
        guard pubsub.subscribers > 0, pubsub.rate > 0, duration > 0, threads > 0 else {
            throw ValidationError("subscribers, rate, duration and threads must be positive")
        }
        var configuration = PubSubLoad.Configuration(target: try LoadTarget(parsing: target, allowRemote: allowRemote))
        configuration.subscribers = pubsub.subscribers
        configuration.rate = pubsub.rate
        configuration.duration = .milliseconds(Int64(duration * 1000))
        configuration.payloadBytes = max(valueBytes, 32)
        configuration.threads = threads
        configuration.channel = pubsub.channel
        configuration.token = token ?? ProcessInfo.processInfo.environment["GATEWAY_LOAD_TOKEN"]
        let usage = pubsub.gatewayPID.map(ProcessUsage.init(pid:))
        let idle = usage?.sample()
        var subscribed: ProcessUsage.Sample?
        let report = try PubSubLoad(configuration: configuration).run(
            progress: { message in
                if !json { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            },
            allSubscribed: { subscribed = usage?.sample() })
        let before = subscribed
        let after = usage?.sample()
        let title = "pubsub against \(configuration.target), \(pubsub.subscribers) streams, \(pubsub.rate) messages/s"
        if json {
            print(report.json())
        } else {
            print(report.summary(title: title))
        }
        if let idle, let before, let after {
            print(
                "  gateway idle  RSS \(idle.residentKiB / 1024) MiB, threads \(idle.threads); with every stream open and "
                    + "subscribed: RSS \(before.residentKiB / 1024) MiB (+\((before.residentKiB - idle.residentKiB) / max(pubsub.subscribers, 1)) KiB "
                    + "per stream), threads \(before.threads)")
            let seconds = report.elapsed.secondsDouble
            print(
                "  gateway       CPU \(String(format: "%.1f", (after.cpuSeconds - before.cpuSeconds) / max(seconds, 0.001) * 100)) % of a core, "
                    + "RSS \(after.residentKiB / 1024) MiB, threads \(after.threads)")
        }
        if report.received == 0 { throw ExitCode(2) }
    }
}

/// Options of `--scenario pubsub`.
struct PubSubOptions: ParsableArguments {
    @Option(help: "pubsub: event streams to open")
    var subscribers: Int = 1000
    @Option(help: "pubsub: messages published per second (--duration bounds the run)")
    var rate: Int = 100
    @Option(help: "pubsub: the channel")
    var channel: String = "gateway-load"
    @Option(help: "pubsub: the gateway's process id, to report its CPU, RSS and threads")
    var gatewayPID: Int32?
}

/// `gateway-load sweep`: start gateways across pool sizes and concurrency levels, report and chart.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Start gateways across pool sizes and concurrency levels; write a report and a chart.")

    @Option(help: "The redis-gateway executable to start")
    var gateway: String = ".build/release/redis-gateway"
    @Option(help: "Redis for the gateways (env REDIS_URL)")
    var redisURL: String?
    @OptionGroup var scenario: ScenarioOptions
    @Option(help: "Pool sizes, comma-separated")
    var poolSizes: String = "1,2,4,8,16,32"
    @Option(help: "Client connections, comma-separated")
    var concurrency: String = "50,200"
    @Option(help: "Seconds per point")
    var duration: Double = 5
    @Option(help: "Gateway worker threads (GATEWAY_THREADS)")
    var gatewayThreads: Int?
    @Flag(inversion: .prefixedNo, help: "Also measure the connection-per-request mode")
    var perRequest = true
    @Option(help: "Directory for report.md and chart.svg")
    var output: String = "Benchmarks/results/pool-sweep"

    func run() throws {
        let redis = redisURL ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379/0"
        var configuration = PoolSweep.Configuration(gatewayBinary: gateway, redisURL: redis)
        configuration.poolSizes = try numbers(poolSizes)
        configuration.concurrencies = try numbers(concurrency)
        configuration.scenario = try scenario.make()
        configuration.duration = .milliseconds(Int64(duration * 1000))
        configuration.includePerRequest = perRequest
        configuration.gatewayThreads = gatewayThreads
        let points = try PoolSweep(configuration: configuration).run { print($0) }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try SweepReport.svg(points).write(toFile: "\(output)/chart.svg", atomically: true, encoding: .utf8)
        try SweepReport.markdown(points, scenario: configuration.scenario.name, chartFile: "chart.svg")
            .write(toFile: "\(output)/report.md", atomically: true, encoding: .utf8)
        print(SweepReport.recommendation(points))
        print("wrote \(output)/report.md and \(output)/chart.svg")
    }

    private func numbers(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("expected positive numbers, comma-separated: '\(text)'")
        }
        return values
    }
}

/// The live progress line on a terminal (standard error), rewritten in place.
enum ProgressLine {
    @Sendable static func show(done: Int, failed: Int, rate: Double) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(done) requests, \(Int(rate))/s, \(failed) errors".utf8))
    }

    static func clear() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
