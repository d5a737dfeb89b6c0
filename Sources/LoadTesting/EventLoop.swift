import CoreUtilities
import Histogram
import Synchronization

/// One thread's share of the connections: keeps one request in flight on each, records latency
/// and outcome, reconnects after failures, and stops when the budget runs out.
struct EventLoop {
    private struct Connection {
        var socket: ClientSocket?
        var buffer: [UInt8] = []
        var pending: [UInt8] = []
        var written = 0
        var startedAt: UInt64 = 0
        var inFlight = false
    }

    let configuration: LoadConfiguration
    let factory: RequestFactory
    let budget: RequestBudget
    let connectionCount: Int
    let seed: UInt64

    /// Runs until the budget is spent and every request in flight has finished.
    func run() -> LoadReport {
        var report = LoadReport()
        var random = SplitMix(seed: seed)
        var connections = (0..<connectionCount).map { _ in Connection() }
        var sequence = 0
        let timeoutNanos = UInt64(configuration.requestTimeout.secondsDouble * 1e9)
        var finished = false

        func fail(_ index: Int, _ kind: String) {
            report.requests += 1
            report.failures[kind, default: 0] += 1
            budget.failed.add(1, ordering: .relaxed)
            budget.completed.add(1, ordering: .relaxed)
            connections[index] = Connection()  // drop the socket; reconnect on the next request
        }

        while true {
            let now = ClientSocket.now()
            // Start a request on every idle connection while the budget lasts.
            if !finished {
                for index in connections.indices where !connections[index].inFlight {
                    guard budget.take(now: now) else {
                        finished = true
                        break
                    }
                    if connections[index].socket == nil {
                        do {
                            connections[index].socket = try ClientSocket(target: configuration.target, nonBlocking: true)
                        } catch {
                            fail(index, error.description)
                            continue
                        }
                    }
                    connections[index].pending = factory.request(sequence, random: &random)
                    sequence += 1
                    connections[index].written = 0
                    connections[index].startedAt = ClientSocket.now()
                    connections[index].inFlight = true
                    flush(&connections[index])
                }
            }
            let busy = connections.indices.filter { connections[$0].inFlight }
            if busy.isEmpty {
                if finished { break }
                continue
            }
            let ready = ClientSocket.wait(
                busy.map { connections[$0].socket },
                wantWrite: busy.map { connections[$0].written < connections[$0].pending.count },
                timeoutMilliseconds: 100)
            for event in ready {
                let index = busy[event.index]
                if event.writable { flush(&connections[index]) }
                if event.failed {
                    fail(index, "connection error")
                    continue
                }
                guard event.readable, let socket = connections[index].socket else { continue }
                guard socket.read(into: &connections[index].buffer) != nil else {
                    fail(index, "connection closed")
                    continue
                }
                do {
                    guard let response = try ResponseParser.parse(connections[index].buffer) else { continue }
                    let elapsed = ClientSocket.now() - connections[index].startedAt
                    _ = report.latency.record(max(elapsed / 1000, 1))
                    report.requests += 1
                    budget.completed.add(1, ordering: .relaxed)
                    if (200..<300).contains(response.status) {
                        report.successes += 1
                    } else {
                        report.failures["status \(response.status)", default: 0] += 1
                        budget.failed.add(1, ordering: .relaxed)
                    }
                    connections[index].buffer.removeFirst(response.length)
                    connections[index].inFlight = false
                    if response.closes { connections[index] = Connection() }
                } catch {
                    fail(index, error.description)
                }
            }
            // Requests in flight for too long fail as timeouts.
            let checked = ClientSocket.now()
            for index in busy where connections[index].inFlight && checked - connections[index].startedAt > timeoutNanos {
                fail(index, "timeout")
            }
        }
        return report
    }

    private func flush(_ connection: inout Connection) {
        guard let socket = connection.socket, connection.written < connection.pending.count else { return }
        if let written = socket.write(connection.pending, from: connection.written) {
            connection.written += written
        }
    }
}
