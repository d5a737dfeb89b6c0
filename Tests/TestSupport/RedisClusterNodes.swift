import Foundation
import Testing

/// A real Redis Cluster on free loopback ports: `primaries` primaries with one replica each, every
/// node a `redis-server --cluster-enabled yes` with `cluster-node-timeout 1000`, joined with
/// `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`; stopped by PID.
public final class RedisClusterNodes: @unchecked Sendable {
    /// Every node; the first `primaries` were created as primaries, the rest as their replicas.
    public let nodes: [RedisServer]

    /// TLS everywhere (`tls-cluster yes`, `tls-replication yes`: clients, the bus and replication); nil: plain TCP.
    public let tls: RedisServer.TLSFiles?

    /// Starts the nodes, creates the cluster and waits until every node reports it healthy.
    public init(primaries: Int = 3, tls: RedisServer.TLSFiles? = nil) throws {
        self.tls = tls
        var clusterArguments = ["--cluster-enabled", "yes", "--cluster-node-timeout", "1000", "--cluster-config-file", "nodes.conf"]
        if tls != nil { clusterArguments += ["--tls-cluster", "yes", "--tls-replication", "yes"] }
        // The cluster bus port is its own free port (the default, port + 10000, may be taken or past 65535).
        nodes = (0..<(primaries * 2)).map { _ in
            RedisServer(extraArguments: clusterArguments + ["--cluster-port", String(BlockingSocket.freePort())], tls: tls)
        }
        let binary = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else { throw ClusterSetupError("redis-cli is not installed: apt-get install -y redis-tools") }
        let create = Process()
        create.executableURL = URL(fileURLWithPath: binary)
        let secure = tls.map { files in ["--tls", "--cacert", files.ca] } ?? []
        create.arguments =
            secure + ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "1", "--cluster-yes"]
        create.standardOutput = FileHandle.nullDevice
        try create.run()
        create.waitUntilExit()
        guard create.terminationStatus == 0 else { throw ClusterSetupError("redis-cli --cluster create failed") }
        try awaitHealthy()
    }

    /// Waits until every running node says `cluster_state:ok` with all slots served, and every
    /// replica is in sync with its primary.
    public func awaitHealthy(within timeout: Duration = .seconds(30)) throws {
        let healthy = eventually(within: timeout) {
            nodes.allSatisfy { node in
                guard let info = node.command(["CLUSTER", "INFO"]), info.contains("cluster_state:ok"),
                    info.contains("cluster_slots_ok:16384"), let replication = node.command(["INFO", "replication"])
                else { return false }
                return replication.contains("role:master") || replication.contains("master_link_status:up")
            }
        }
        guard healthy else { throw ClusterSetupError("the cluster did not become healthy within \(timeout)") }
    }

    /// Stops every node by PID.
    public func stop() {
        for node in nodes { node.stop() }
    }

    /// The gateway's `REDIS_URL`: two seeds.
    public var url: String { "\(tls == nil ? "redis" : "rediss")+cluster://127.0.0.1:\(nodes[0].port),127.0.0.1:\(nodes[1].port)/" }

    /// The nodes that are primaries now.
    public var primaries: [RedisServer] {
        nodes.filter { $0.command(["INFO", "replication"])?.contains("role:master") == true }
    }

    /// The nodes that are replicas now.
    public var replicas: [RedisServer] {
        nodes.filter { $0.command(["INFO", "replication"])?.contains("role:slave") == true }
    }

    /// The node serving `key`'s slot now (asked of any node).
    public func primary(serving key: String) -> RedisServer? {
        for node in nodes {
            guard let reply = node.command(["GET", key]) else { continue }
            guard reply.hasPrefix("-MOVED") else { return node }
            let port = reply.split(separator: ":").last.flatMap { Int($0) }
            return nodes.first { $0.port == port }
        }
        return nil
    }

    /// Every key on every primary (`KEYS *` on each).
    public func keyCount() -> Int {
        primaries.reduce(0) { count, node in
            let reply = node.command(["DBSIZE"]) ?? ""  // ":3", or "3" from redis-cli on a TLS node
            return count + (Int(reply.hasPrefix(":") ? String(reply.dropFirst()) : reply) ?? 0)
        }
    }
}

/// The cluster could not be set up.
public struct ClusterSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
