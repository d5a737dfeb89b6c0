import Foundation
import LoadTesting
import TestSupport

/// The built `redis-gateway` binary, started as the fault tests need it: in front of a Redis, on a
/// free loopback port, with a log file and a seeded session database in a scratch directory.
extension GatewayProcess {
    /// The binary next to the test bundle (`.build/<config>/redis-gateway`), or `GATEWAY_BINARY`.
    static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["GATEWAY_BINARY"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("redis-gateway").path
    }

    /// Starts the gateway in front of `redisURL` with `environment` added, and waits until it listens.
    convenience init(redisURL: String, environment: [String: String] = [:]) throws {
        let port = BlockingSocket.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-fault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var env = ProcessInfo.processInfo.environment
        env["REDIS_URL"] = redisURL
        env["GATEWAY_PORT"] = String(port)
        env["GATEWAY_HOST"] = "127.0.0.1"
        env["GATEWAY_DATABASE_PATH"] = directory.appendingPathComponent("users.sqlite").path
        env["GATEWAY_SEED_USERS"] = "10"
        env["GATEWAY_LOG_LEVEL"] = "info"
        for (key, value) in environment { env[key] = value }
        try self.init(
            binary: Self.binaryPath, environment: env, port: port,
            logPath: directory.appendingPathComponent("gateway.log").path, scratchDirectory: directory)
    }

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

    /// The baseline for `descriptorsBesidesThePool`, read once no dial is in flight (a dial counts as
    /// open before its socket exists) and as the largest of a few readings, so a connection being
    /// opened or closed at that instant does not set it one too low.
    func settledDescriptorsBesidesThePool() -> Int {
        _ = eventually { stat("connecting") == 0 }
        return (0..<3).map { _ in
            usleep(20_000)
            return descriptorsBesidesThePool()
        }.max() ?? descriptorsBesidesThePool()
    }
}

/// A fault test could not set up what it needs.
struct FaultTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
