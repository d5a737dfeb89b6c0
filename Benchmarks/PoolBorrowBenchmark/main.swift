// Times borrow + return on the pool in-process (release build): uncontended, then contended.
// Usage: swift run -c release PoolBorrowBenchmark [iterations]
import ConnectionPool
import Dispatch

/// A connection that does nothing, so only the pool's own cost is measured.
final class NullConnection: PooledConnection {
    var isReusable: Bool { true }
    var failedByTimeout: Bool { false }
    func checkHealth(timeout: Duration) -> Bool { true }
    func close() {}
}

struct NullFactory: ConnectionFactory {
    func makeConnection() throws -> NullConnection { NullConnection() }
}

func makePool(max: Int) -> ConnectionPool<NullFactory> {
    var configuration = PoolConfiguration()
    configuration.maxConnections = max
    configuration.waitTimeout = .seconds(10)
    return ConnectionPool(configuration: configuration, factory: NullFactory())
}

let iterations = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 2_000_000
let clock = ContinuousClock()

// Uncontended: one thread, one connection, borrow + return in a loop.
let single = makePool(max: 1)
try single.withConnection { _ in }  // open the connection outside the timed loop
var best = Duration.seconds(3600)
for _ in 0..<5 {
    let elapsed = clock.measure {
        for _ in 0..<iterations {
            try? single.withConnection { _ in }
        }
    }
    best = min(best, elapsed)
}
let nanosPerBorrow =
    Double(best.components.attoseconds) / 1e9 / Double(iterations) + Double(best.components.seconds) * 1e9 / Double(iterations)
print("uncontended borrow+return: \(String(format: nanosPerBorrow)) ns/op (best of 5 runs of \(iterations))")

// Contended: 8 threads sharing 2 connections.
let shared = makePool(max: 2)
let perThread = iterations / 8
let group = DispatchGroup()
let elapsed = clock.measure {
    for _ in 0..<8 {
        group.enter()
        Thread.detach {
            for _ in 0..<perThread { try? shared.withConnection { _ in } }
            group.leave()
        }
    }
    group.wait()
}
let contended = (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / Double(perThread * 8)
print("contended (8 threads, 2 connections): \(String(format: contended)) ns/op wall-clock per borrow")
print("stats: \(shared.statistics.borrows) borrows, \(shared.statistics.waitTimeouts) timeouts, max open \(shared.statistics.open)")

extension String {
    init(format value: Double) {
        self = String(Double(Int(value * 10)) / 10)
    }
}

enum Thread {
    static func detach(_ body: @escaping @Sendable () -> Void) {
        DispatchQueue.global().async(execute: body)
    }
}
