import Foundation
import TestSupport

/// The built `redis-gateway` binary, started as a child process on a free loopback port and
/// stopped by PID: the fault tests treat it as a black box, as an operator would.
final class GatewayProcess: @unchecked Sendable {
    let port: Int
    let process = Process()
    let logPath: String
    private let directory: URL

    /// The binary next to the test bundle (`.build/<config>/redis-gateway`), or `GATEWAY_BINARY`.
    static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["GATEWAY_BINARY"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("redis-gateway").path
    }

    /// Starts the gateway in front of `redisURL` with `environment` added, and waits for /healthz.
    init(redisURL: String, environment: [String: String] = [:]) throws {
        port = BlockingSocket.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-fault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logPath = directory.appendingPathComponent("gateway.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard FileManager.default.isExecutableFile(atPath: Self.binaryPath) else {
            throw FaultTestError("redis-gateway is not built at \(Self.binaryPath): run `swift build` first")
        }
        process.executableURL = URL(fileURLWithPath: Self.binaryPath)
        var env = ProcessInfo.processInfo.environment
        env["REDIS_URL"] = redisURL
        env["GATEWAY_PORT"] = String(port)
        env["GATEWAY_HOST"] = "127.0.0.1"
        env["GATEWAY_DATABASE_PATH"] = directory.appendingPathComponent("users.sqlite").path
        env["GATEWAY_SEED_USERS"] = "10"
        env["GATEWAY_LOG_LEVEL"] = "info"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        let ready = eventually(within: .seconds(15)) {
            HTTPTestClient(port: port).request("GET", "/healthz")?.status == 200
        }
        guard ready else {
            terminateHard()
            throw FaultTestError("the gateway did not answer /healthz within 15 s: \(log)")
        }
    }

    deinit {
        terminateHard()
        try? FileManager.default.removeItem(at: directory)
    }

    var pid: Int32 { process.processIdentifier }

    /// What the gateway logged so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Open file descriptors of the gateway process now.
    var openFileDescriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// `/pool/stats` as a dictionary.
    func poolStats() -> [String: Any] {
        guard let response = HTTPTestClient(port: port).request("GET", "/pool/stats"),
            let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        else { return [:] }
        return object
    }

    /// A whole-number member of `/pool/stats`.
    func stat(_ name: String) -> Int { (poolStats()[name] as? Int) ?? -1 }

    /// File descriptors that are not pooled Redis connections: this must not grow across a fault.
    func descriptorsBesidesThePool() -> Int {
        let stats = poolStats()
        return openFileDescriptors - ((stats["open"] as? Int) ?? 0)
    }

    /// Sends SIGTERM and waits (bounded) for the exit; the exit status, nil if it did not exit in time.
    func terminate(within limit: Duration = .seconds(30)) -> Int32? {
        kill(pid, SIGTERM)
        guard eventually(within: limit, { !process.isRunning }) else { return nil }
        return process.terminationStatus
    }

    private func terminateHard() {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A fault test could not set up what it needs.
struct FaultTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
