import Dispatch
import Foundation
import HTTPServer
import TestSupport
import Testing

/// poll(2) or epoll(7) for each worker thread's connections: which one `auto` picks, that the one
/// asked for is the one in use, and that answers given later from another thread (suspend and
/// resume) reach their connections under either.
@Suite struct ConnectionPollingTests {
    @Test func autoPollsOnlyWhileEachThreadHasFewConnections() {
        let perThread = ConnectionPolling.pollConnectionsPerThread
        var configuration = HTTPServerConfiguration()
        configuration.workerThreads = 2
        configuration.connectionLimit = 2 * perThread
        #expect(configuration.usesPoll)
        configuration.connectionLimit = 2 * perThread + 1
        #expect(!configuration.usesPoll)
        configuration.connectionLimit = 1024
        #expect(!configuration.usesPoll, "the default limit over two threads is epoll")
        configuration.polling = .poll
        #expect(configuration.usesPoll)
        configuration.polling = .epoll
        configuration.connectionLimit = 10
        #expect(!configuration.usesPoll)
        configuration.polling = .auto
        configuration.workerThreads = 0
        #expect(!configuration.usesPoll, "a thread per connection waits on its own connection")
    }

    /// Keep-alive connections whose answers come from another thread, under each polling, both with
    /// connections dealt in turn and with libmicrohttpd's own pool (a per-address limit).
    @Test(arguments: [ConnectionPolling.poll, .epoll], [0, 64])
    func answersGivenLaterReachTheirConnections(polling: ConnectionPolling, perAddressLimit: Int) throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.workerThreads = 2
        configuration.polling = polling
        configuration.perAddressConnectionLimit = perAddressLimit
        let server = try HTTPServer(configuration: configuration) { request, responder in
            let path = request.pathSegments.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
            DispatchQueue.global().async { responder.respond(HTTPResponse(status: 200, body: Array(path.utf8))) }
        }
        defer { server.shutdown(grace: .seconds(1)) }
        let connections = try (0..<6).map { _ in try #require(KeepAliveConnection(port: server.port)) }
        for round in 0..<20 {
            for (index, connection) in connections.enumerated() {
                #expect(connection.get("/c\(index)/r\(round)")?.text == "c\(index)/r\(round)")
            }
        }
        // The client connections stay open through the check (an optimised build may otherwise end
        // their lifetime, and close them, after their last use above).
        withExtendedLifetime(connections) {
            if polling == .epoll {
                // libmicrohttpd puts a resumed connection back in its set once a read finds nothing.
                #expect(eventually { Self.epollWatchedConnections(serverPort: server.port) == connections.count })
            } else {
                #expect(Self.epollWatchedConnections(serverPort: server.port) == 0, "no connection of the server is in any epoll set")
            }
        }
    }

    /// How many of this process's sockets accepted on `serverPort` some epoll instance of this
    /// process watches (/proc/net/tcp for the sockets, /proc/self/fdinfo for the epoll sets).
    static func epollWatchedConnections(serverPort: Int) -> Int {
        let table = readWhole("/proc/net/tcp")
        let portSuffix = String(format: ":%04X", serverPort)
        var inodes: Set<String> = []
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[1].hasSuffix(portSuffix), fields[3] == "01" else { continue }
            inodes.insert(String(fields[9]))
        }
        var connectionDescriptors: Set<String> = []
        var watched: Set<String> = []
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in descriptors {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)") else { continue }
            if target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast())) {
                connectionDescriptors.insert(descriptor)
            } else if target == "anon_inode:[eventpoll]" {
                let info = readWhole("/proc/self/fdinfo/\(descriptor)")
                for line in info.split(separator: "\n") where line.hasPrefix("tfd:") {
                    if let number = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first {
                        watched.insert(String(number))
                    }
                }
            }
        }
        return connectionDescriptors.intersection(watched).count
    }

    /// A /proc file whole (Foundation's one-shot read stops at the first page of these).
    static func readWhole(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        var text = ""
        while let chunk = try? handle.read(upToCount: 65536), !chunk.isEmpty { text += String(decoding: chunk, as: UTF8.self) }
        return text
    }
}
