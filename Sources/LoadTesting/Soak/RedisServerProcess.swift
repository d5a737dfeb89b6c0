import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The soak's Redis: a `redis-server` child on a loopback port that keeps every acknowledged write
/// across restarts (append-only file, fsync on every write), so a reply can be checked against what
/// its caller wrote even across a restart. Stopped by PID, never by name.
final class RedisServerProcess: @unchecked Sendable {
    let port: Int
    private let binary: String
    private let directory: String
    private var process: Process?

    /// Starts `binary` on `port`, its files in `directory`.
    init(binary: String, port: Int, directory: String) throws(LoadTestError) {
        self.binary = Self.resolve(binary)
        self.port = port
        self.directory = directory
        try start()
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Stops Redis (SIGTERM: it writes its file and exits) and starts it again on the same port.
    func restart() throws(LoadTestError) {
        stop()
        try start()
    }

    /// Stops Redis by PID (SIGTERM) and waits for the exit.
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// `CLIENT PAUSE milliseconds ALL`: every client's commands wait, as in a Redis failover's pause.
    func pause(milliseconds: Int) throws(LoadTestError) {
        let target = try LoadTarget(parsing: "http://127.0.0.1:\(port)")
        let socket = try ClientSocket(target: target, nonBlocking: false, timeoutSeconds: 2)
        let argument = String(milliseconds)
        let command = Array("*4\r\n$6\r\nCLIENT\r\n$5\r\nPAUSE\r\n$\(argument.utf8.count)\r\n\(argument)\r\n$3\r\nALL\r\n".utf8)
        guard socket.write(command, from: 0) == command.count else { throw LoadTestError("CLIENT PAUSE could not be sent") }
        var reply: [UInt8] = []
        while !reply.contains(10) {
            guard let read = socket.read(into: &reply), read > 0 else { throw LoadTestError("no reply to CLIENT PAUSE") }
        }
        guard reply.first == UInt8(ascii: "+") else {
            throw LoadTestError("CLIENT PAUSE failed: \(String(decoding: reply, as: UTF8.self))")
        }
    }

    /// `name` itself when it is a path, else the first executable of that name on `PATH`.
    private static func resolve(_ name: String) -> String {
        guard !name.contains("/") else { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? name
    }

    private func start() throws(LoadTestError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "yes",
            "--appendfsync", "always", "--daemonize", "no", "--logfile", "\(directory)/redis.log",
        ]
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw LoadTestError("cannot start \(binary): \(error)")
        }
        self.process = process
        let target = try LoadTarget(parsing: "http://127.0.0.1:\(port)")
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            // Listening is not enough: Redis answers LOADING while it reads its file back.
            if let socket = try? ClientSocket(target: target, nonBlocking: false, timeoutSeconds: 1) {
                let ping = Array("*1\r\n$4\r\nPING\r\n".utf8)
                var reply: [UInt8] = []
                if socket.write(ping, from: 0) == ping.count, socket.read(into: &reply) != nil, reply.starts(with: Array("+PONG".utf8)) {
                    return
                }
            }
            guard process.isRunning else { throw LoadTestError("\(binary) exited at start (status \(process.terminationStatus))") }
            usleep(10_000)
        }
        throw LoadTestError("\(binary) did not answer PING on port \(port) within 15 s")
    }
}
