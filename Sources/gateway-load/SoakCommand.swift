import ArgumentParser
import Foundation
import LoadTesting

/// `gateway-load soak`: starts its own Redis and gateway, runs the mixed, self-checking workload
/// with faults on a schedule, and writes report.md, samples.csv and chart.svg; exits 1 when an
/// assertion failed.
struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Mixed, self-checking load with Redis restarts and pauses; memory, threads and files recorded and asserted.")

    @Option(help: "The redis-gateway executable to start")
    var gateway: String = ".build/release/redis-gateway"
    @Option(help: "The redis-server executable to start (restarted during the soak)")
    var redisServer: String = "redis-server"
    @Option(help: "Seconds to run")
    var duration: Double = 180
    @Option(help: "Callers, each on its own keys and keep-alive connection")
    var workers: Int = 8
    @Option(help: "Event streams on the soak's channel")
    var subscribers: Int = 4
    @Option(help: "Seconds between Redis restarts (the first at half of it)")
    var restartEvery: Double = 120
    @Option(help: "Seconds between CLIENT PAUSEs (the first at half of it)")
    var pauseEvery: Double = 180
    @Option(help: "Seconds between samples")
    var sampleEvery: Double = 10
    @Option(help: "Directory for report.md, samples.csv, chart.svg and the logs")
    var output: String = "Benchmarks/results/soak"

    func run() throws {
        guard duration > 0, workers > 0, subscribers > 0, restartEvery > 0, pauseEvery > 0, sampleEvery > 0 else {
            throw ValidationError("durations and counts must be positive")
        }
        var configuration = Soak.Configuration(gatewayBinary: gateway, output: output)
        configuration.redisServerBinary = redisServer
        configuration.duration = .milliseconds(Int64(duration * 1000))
        configuration.workers = workers
        configuration.subscribers = subscribers
        configuration.restartEvery = .milliseconds(Int64(restartEvery * 1000))
        configuration.pauseEvery = .milliseconds(Int64(pauseEvery * 1000))
        configuration.sampleEvery = .milliseconds(Int64(sampleEvery * 1000))
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        // A line per sample as it happens, also into a pipe (CI's log): unbuffered writes.
        let result = try Soak(configuration: configuration).run { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
        let title = "Soak: \(Int(duration)) s, \(workers) callers, \(subscribers) event streams"
        try SoakReport.markdown(result, title: title, chartFile: "chart.svg").write(
            toFile: "\(output)/report.md", atomically: true, encoding: .utf8)
        try SoakReport.csv(result).write(toFile: "\(output)/samples.csv", atomically: true, encoding: .utf8)
        try SoakReport.svg(result).write(toFile: "\(output)/chart.svg", atomically: true, encoding: .utf8)
        for verdict in result.verdicts { print("\(verdict.passed ? "ok    " : "FAILED") \(verdict.text)") }
        print("wrote \(output)/report.md, samples.csv and chart.svg")
        if !result.passed { throw ExitCode(1) }
    }
}
