import Foundation
import Testing

/// A real `redis-server` on a free loopback port, started for tests and stopped by PID (the way
/// hiredis' test.sh does it: non-default port, no persistence, wait for PING).
///
/// A missing `redis-server` is a failure, never a silent skip.
public final class RedisServer: @unchecked Sendable {
    /// The port it listens on (kept across restarts).
    public let port: Int
    private let directory: URL
    private let lock = NSLock()
    private var process: Process?

    /// One server shared by every test of this process that needs no special server state; it is
    /// stopped when the process exits.
    public static let shared: RedisServer = {
        let server = RedisServer()
        atexit { RedisServer.shared.stop() }
        return server
    }()

    /// The `requirepass` password, sent with AUTH by `command`; nil for none.
    public let password: String?

    /// TLS only (`--port 0 --tls-port PORT`) with these files; nil for plain TCP.
    public let tls: TLSFiles?

    /// What a TLS server presents and asks for.
    public struct TLSFiles: Sendable {
        /// The server's certificate and key.
        public var certificate: String
        public var key: String
        /// The CA that client certificates must chain to (and that `command` trusts).
        public var ca: String
        /// `--tls-auth-clients yes`: a client without a certificate is refused.
        public var authenticateClients = false
        /// The client certificate `command` presents when `authenticateClients` is set.
        public var clientCertificate: String?
        public var clientKey: String?
        /// Also a plain port (`port`, where `command` goes), beside the TLS one (`tlsPort`, in `url`):
        /// for servers other processes reach over TLS (Sentinels, replicas) while the test helper
        /// reads them in plain RESP.
        public var plainPortToo = false

        public init(certificate: String, key: String, ca: String) {
            self.certificate = certificate
            self.key = key
            self.ca = ca
        }
    }

    /// Starts a new server on a free port (requiring `password` when given; TLS only with `tls`) and
    /// waits until it answers PING.
    /// The TLS port (the same as `port` unless `TLSFiles.plainPortToo`); nil for plain TCP.
    public let tlsPort: Int?

    public init(extraArguments: [String] = [], password: String? = nil, tls: TLSFiles? = nil) {
        let chosen = BlockingSocket.freePort()
        port = chosen
        tlsPort = tls.map { $0.plainPortToo ? BlockingSocket.freePort() : chosen }
        self.password = password
        self.tls = tls
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.extraArguments = extraArguments + (password.map { ["--requirepass", $0, "--masterauth", $0] } ?? [])
        start()
    }

    private let extraArguments: [String]

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// `redis://[:password@]127.0.0.1:PORT/0` (`rediss://` for a TLS server).
    public var url: String { "\(tls == nil ? "redis" : "rediss")://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(tlsPort ?? port)/0" }

    /// `port` is plain TCP (`command` speaks RESP there itself).
    private var speaksRESPHere: Bool { tls?.plainPortToo ?? true }

    /// Starts the server (again) on the same port and waits for PING.
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        guard process == nil else { return }
        let candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("redis-server is not installed: run `apt-get install -y redis-server` (tests never skip it)")
            return
        }
        let started = Process()
        started.executableURL = URL(fileURLWithPath: binary)
        let listening =
            tls.map { files in
                [
                    "--port", files.plainPortToo ? String(port) : "0", "--tls-port", String(tlsPort ?? port),
                    "--tls-cert-file", files.certificate, "--tls-key-file", files.key,
                    "--tls-ca-cert-file", files.ca, "--tls-auth-clients", files.authenticateClients ? "yes" : "no",
                ]
            } ?? ["--port", String(port)]
        started.arguments =
            listening + [
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", directory.path, "--daemonize", "no", "--loglevel", "warning",
                "--enable-debug-command", "local",
            ] + extraArguments
        started.standardOutput = FileHandle.nullDevice
        do {
            try started.run()
        } catch {
            Issue.record("cannot start redis-server: \(error)")
            return
        }
        process = started
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if command(["PING"]) == (speaksRESPHere ? "+PONG" : "PONG") { return }
            usleep(10_000)
        }
        Issue.record("redis-server on port \(port) did not answer PING within 10 s")
    }

    /// Stops the server by PID and waits for it to exit. SIGKILL, because the test runner's threads
    /// block SIGTERM and children inherit that mask; the server keeps no data worth saving.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard let running = process else { return }
        process = nil
        if running.isRunning {
            kill(running.processIdentifier, SIGKILL)
            running.waitUntilExit()
        }
    }

    /// Stops and starts the server on the same port: every existing connection is cut.
    public func restart() {
        stop()
        start()
    }

    /// Sends one command on a fresh connection and returns the reply as raw text: the first line
    /// for status, error and integer replies (`+PONG`, `-ERR ...`, `:3`), the payload for a bulk
    /// reply, nil for a null bulk or no connection.
    ///
    /// On a TLS server: `redis-cli --tls`'s output instead (`PONG`, `OK`, a payload), nil when it fails.
    @discardableResult
    public func command(_ arguments: [String]) -> String? {
        guard let tls, !speaksRESPHere else { return Self.command(arguments, port: port, password: password) }
        var cli = ["--tls", "--cacert", tls.ca, "-h", "127.0.0.1", "-p", String(port)]
        // --insecure: the helper also reaches a server whose certificate the tests want refused.
        cli.append("--insecure")
        if let certificate = tls.clientCertificate, let key = tls.clientKey { cli += ["--cert", certificate, "--key", key] }
        if let password { cli += ["--no-auth-warning", "-a", password] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = cli + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        return process.terminationStatus == 0 && !text.hasPrefix("Could not connect") ? text : nil
    }

    /// `command` against any RESP server on 127.0.0.1:`port` (a Sentinel too), AUTH first when a
    /// `password` is given.
    @discardableResult
    public static func command(_ arguments: [String], port: Int, password: String?) -> String? {
        guard let socket = BlockingSocket(port: port, timeoutSeconds: 10) else { return nil }
        if let password {
            guard socket.write(encode(["AUTH", password])) else { return nil }
            var reply: [UInt8] = []
            while reply.firstRange(of: Array("\r\n".utf8)) == nil {
                let chunk = socket.read()
                if chunk.isEmpty { return nil }
                reply += chunk
            }
            guard reply.starts(with: Array("+OK".utf8)) else { return String(decoding: reply, as: UTF8.self) }
        }
        guard socket.write(encode(arguments)) else { return nil }
        var received: [UInt8] = []
        while true {
            let chunk = socket.read()
            if chunk.isEmpty { return nil }
            received += chunk
            guard let lineEnd = received.firstRange(of: Array("\r\n".utf8)) else { continue }
            let line = String(decoding: received[..<lineEnd.lowerBound], as: UTF8.self)
            guard line.hasPrefix("$") else { return line }
            guard let length = Int(line.dropFirst()), length >= 0 else { return nil }
            let start = lineEnd.upperBound
            if received.count >= start + length + 2 {
                return String(decoding: received[start..<(start + length)], as: UTF8.self)
            }
        }
    }

    /// A command in RESP.
    static func encode(_ arguments: [String]) -> [UInt8] {
        var request = "*\(arguments.count)\r\n"
        for argument in arguments { request += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
        return Array(request.utf8)
    }

    /// Connections whose CLIENT SETNAME is `name`, per CLIENT LIST.
    public func clientCount(named name: String) -> Int {
        guard let list = command(["CLIENT", "LIST"]) else { return -1 }
        return list.split(separator: "\n").filter { $0.contains(" name=\(name) ") }.count
    }
}
