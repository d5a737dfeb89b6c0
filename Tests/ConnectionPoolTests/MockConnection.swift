import ConnectionPool
import Glibc
import Synchronization

/// A connection that does no I/O: tests set whether it is reusable and whether its health check
/// passes, and read whether it was closed.
final class MockConnection: PooledConnection, @unchecked Sendable {
    let id: Int
    var isReusable = true
    var failedByTimeout = false
    var healthy = true
    private(set) var healthChecks = 0
    private(set) var isClosed = false
    private let onClose: @Sendable () -> Void

    init(id: Int, onClose: @escaping @Sendable () -> Void = {}) {
        self.id = id
        self.onClose = onClose
    }

    func checkHealth(timeout: Duration) -> Bool {
        healthChecks += 1
        return healthy
    }

    func close() {
        precondition(!isClosed, "closed twice")
        isClosed = true
        onClose()
    }
}

/// Opens `MockConnection`s, counting how many are open at once and the most ever open; tests can
/// make dials fail, or slow them down to see how many run at once.
final class MockFactory: ConnectionFactory, Sendable {
    struct Counts {
        var opened = 0
        var live = 0
        var maxLive = 0
        var failNext = 0
        var failing = false
        var attempts = 0
        var dialling = 0
        var maxDialling = 0
        var dialDelayMicroseconds: UInt32 = 0
    }

    let counts = Mutex(Counts())

    func makeConnection() throws -> MockConnection {
        let delay = counts.withLock { counts in
            counts.attempts += 1
            counts.dialling += 1
            counts.maxDialling = max(counts.maxDialling, counts.dialling)
            return counts.dialDelayMicroseconds
        }
        if delay > 0 { usleep(delay) }
        let id: Int = try counts.withLock { counts in
            counts.dialling -= 1
            if counts.failing || counts.failNext > 0 {
                counts.failNext = max(counts.failNext - 1, 0)
                throw MockConnectError()
            }
            counts.opened += 1
            counts.live += 1
            counts.maxLive = max(counts.maxLive, counts.live)
            return counts.opened
        }
        return MockConnection(id: id) { [self] in self.counts.withLock { $0.live -= 1 } }
    }
}

struct MockConnectError: Error, CustomStringConvertible {
    var description: String { "connection refused (mock)" }
}
