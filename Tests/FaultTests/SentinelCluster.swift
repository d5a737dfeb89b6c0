import Foundation
import LoadTesting
import TestSupport

/// One master, its replicas and three Sentinels (Debian's `redis-sentinel`) on free loopback ports,
/// with separate passwords for the data nodes and the Sentinels; stopped by PID.
final class SentinelCluster: @unchecked Sendable {
    static let masterName = "mymaster"
    static let dataPassword = "data-secret"
    static let sentinelPassword = "sentinel-secret"

    let nodes: [RedisServer]
    let sentinels: [SentinelProcess]

    /// With `tls`: every node and Sentinel also listens on a TLS port, replication and the Sentinels'
    /// own links use TLS (`tls-replication yes`), so the addresses Sentinels name are TLS ports;
    /// the plain ports stay for the tests' own reads.
    let tls: RedisServer.TLSFiles?

    /// Starts the master and `replicas` replicas, waits for replication, then the Sentinels, and
    /// waits until every Sentinel knows the replicas and the other two (so a failover can be agreed).
    init(replicas: Int, tls: RedisServer.TLSFiles? = nil) throws {
        var files = tls
        files?.plainPortToo = true
        self.tls = files
        let secure = files == nil ? [] : ["--tls-replication", "yes"]
        let master = RedisServer(extraArguments: secure, password: Self.dataPassword, tls: files)
        let followers = (0..<replicas).map { _ in
            RedisServer(
                extraArguments: secure + ["--replicaof", "127.0.0.1", String(master.tlsPort ?? master.port)], password: Self.dataPassword,
                tls: files)
        }
        nodes = [master] + followers
        let synced = eventually(within: .seconds(20)) {
            followers.allSatisfy { $0.command(["INFO", "replication"])?.contains("master_link_status:up") == true }
        }
        guard synced else { throw FaultTestError("the replicas did not sync with the master") }
        sentinels = try (0..<3).map { _ in try SentinelProcess(monitoring: master.tlsPort ?? master.port, tls: files) }
        let ready = eventually(within: .seconds(30)) {
            sentinels.allSatisfy { sentinel in
                sentinel.command(["SENTINEL", "REPLICAS", Self.masterName])?.hasPrefix("*\(replicas)") == true
                    && sentinel.command(["SENTINEL", "SENTINELS", Self.masterName])?.hasPrefix("*2") == true
            }
        }
        guard ready else { throw FaultTestError("the Sentinels did not discover the replicas and each other") }
    }

    /// The gateway's `REDIS_URL` for this cluster.
    var url: String {
        let hosts = sentinels.map { "127.0.0.1:\($0.tlsPort ?? $0.port)" }.joined(separator: ",")
        return
            "\(tls == nil ? "redis" : "rediss")+sentinel://:\(Self.dataPassword)@\(hosts)/\(Self.masterName)/0?sentinel_password=\(Self.sentinelPassword)"
    }

    /// What the Sentinels report as the master's port (the first that answers).
    var announcedMasterPort: Int? {
        for sentinel in sentinels {
            if let port = sentinel.masterPort() { return port }
        }
        return nil
    }
}

/// One `redis-sentinel` process with its own config file (Sentinel rewrites it).
final class SentinelProcess: @unchecked Sendable {
    let port: Int
    private let process = Process()
    private let directory: URL

    /// The TLS port, beside the plain one, with `tls`.
    let tlsPort: Int?

    init(monitoring masterPort: Int, tls: RedisServer.TLSFiles? = nil) throws {
        port = BlockingSocket.freePort()
        let tlsPort = tls.map { _ in BlockingSocket.freePort() }
        self.tlsPort = tlsPort
        let secure =
            tls.map { files in
                """
                tls-port \(tlsPort ?? 0)
                tls-cert-file \(files.certificate)
                tls-key-file \(files.key)
                tls-ca-cert-file \(files.ca)
                tls-auth-clients no
                tls-replication yes

                """
            } ?? ""
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentinel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("sentinel.conf")
        let name = SentinelCluster.masterName
        try """
        port \(port)
        bind 127.0.0.1
        daemonize no
        dir \(directory.path)
        requirepass \(SentinelCluster.sentinelPassword)
        sentinel sentinel-pass \(SentinelCluster.sentinelPassword)
        sentinel monitor \(name) 127.0.0.1 \(masterPort) 2
        sentinel auth-pass \(name) \(SentinelCluster.dataPassword)
        sentinel down-after-milliseconds \(name) 1000
        sentinel failover-timeout \(name) 10000
        sentinel parallel-syncs \(name) 1
        \(secure)
        """.write(to: config, atomically: true, encoding: .utf8)
        let binary = ["/usr/bin/redis-sentinel", "/usr/local/bin/redis-sentinel"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else { throw FaultTestError("redis-sentinel is not installed: apt-get install -y redis-sentinel") }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [config.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard eventually(within: .seconds(10), { command(["PING"]) == "+PONG" }) else {
            throw FaultTestError("redis-sentinel on port \(port) did not answer PING")
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A command to this Sentinel (authenticated).
    @discardableResult
    func command(_ arguments: [String]) -> String? {
        RedisServer.command(arguments, port: port, password: SentinelCluster.sentinelPassword)
    }

    /// The master's port as this Sentinel reports it (from `INFO sentinel`, a bulk reply the raw
    /// helper returns whole).
    func masterPort() -> Int? {
        guard let info = command(["INFO", "sentinel"]) else { return nil }
        // master0:name=mymaster,status=ok,address=127.0.0.1:PORT,slaves=1,sentinels=3
        guard let address = info.split(separator: ",").first(where: { $0.hasPrefix("address=") }) else { return nil }
        return address.split(separator: ":").last.flatMap { Int($0) }
    }
}
