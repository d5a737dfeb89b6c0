import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A `redis-gateway` binary started as a child process on a loopback port and stopped by PID, as an
/// operator would run it: used by the pool sweep and by the black-box fault tests.
///
/// Lifecycle: listening once `init` returns; `terminate(within:)` sends SIGTERM and waits for the
/// exit; dropping it kills a process still running (SIGKILL) and removes its scratch directory.
public final class GatewayProcess: @unchecked Sendable {
    /// The port it listens on.
    public let port: Int
    /// Where its standard error goes, when a log file was asked for.
    public let logPath: String?
    private let process = Process()
    private let scratchDirectory: URL?

    /// Starts `binary` with exactly `environment` (which must set `GATEWAY_PORT` to `port`) and waits
    /// until it accepts connections on `port`, for up to `readyWithin`. Standard error goes to
    /// `logPath` (or is inherited); `scratchDirectory` is removed when this object is dropped.
    public init(
        binary: String, environment: [String: String], port: Int, logPath: String? = nil, scratchDirectory: URL? = nil,
        readyWithin: Duration = .seconds(15)
    ) throws(LoadTestError) {
        self.port = port
        self.logPath = logPath
        self.scratchDirectory = scratchDirectory
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LoadTestError("redis-gateway is not built at \(binary): run `swift build` first")
        }
        process.executableURL = URL(fileURLWithPath: binary)
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        if let logPath {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: logPath)
        }
        do {
            try process.run()
        } catch {
            throw LoadTestError("cannot start \(binary): \(error)")
        }
        let target = try LoadTarget(parsing: "http://127.0.0.1:\(port)")
        let clock = ContinuousClock()
        let deadline = clock.now + readyWithin
        while clock.now < deadline {
            if (try? ClientSocket(target: target, nonBlocking: false, timeoutSeconds: 1)) != nil { return }
            guard process.isRunning else {
                throw LoadTestError("\(binary) exited at start (status \(process.terminationStatus)): \(log)")
            }
            usleep(10_000)
        }
        killHard()
        throw LoadTestError("\(binary) did not listen on port \(port) within \(readyWithin): \(log)")
    }

    deinit {
        killHard()
        if let scratchDirectory { try? FileManager.default.removeItem(at: scratchDirectory) }
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// True until the process exits.
    public var isRunning: Bool { process.isRunning }

    /// What it logged so far (empty without a log file).
    public var log: String {
        logPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
    }

    /// Sends SIGTERM and waits (bounded) for the exit; the exit status, nil if it did not exit in time.
    @discardableResult
    public func terminate(within limit: Duration = .seconds(30)) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while process.isRunning {
            guard clock.now < deadline else { return nil }
            usleep(1000)
        }
        return process.terminationStatus
    }

    /// Sends SIGKILL to a process still running and reaps it.
    public func killHard() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }
}
