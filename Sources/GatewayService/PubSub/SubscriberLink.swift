import ConnectionPool
import CoreUtilities
import RedisClient
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The gateway's subscribed connection to Redis, outside the borrow pool (a subscribed connection
/// serves no other command), owned by one thread that:
/// - writes the `SUBSCRIBE`/`UNSUBSCRIBE` commands queued with `enqueue`;
/// - reads what Redis pushes (confirmations and messages) and hands it to `received`;
/// - calls `tick` every heartbeat interval;
/// - when the connection breaks (Redis restarted, killed, the master moved), reports `lost` and
///   reconnects with a doubling, half-random backoff, sending what `connected` returns first
///   (the subscriptions to restore). Through Sentinels it connects to the current master, as the
///   pool does.
///
/// Lifecycle: started by the first subscriber; `stop()` ends the thread. Threading: any thread; the
/// handlers run on the link's thread, never under the link's lock.
final class SubscriberLink: Sendable {
    /// Where the connection stands.
    enum State: Sendable, Equatable {
        /// Not started (no one subscribed yet).
        case idle
        /// Connecting for the first time or after a loss.
        case connecting
        /// Subscribed and reading.
        case connected
        /// The last attempt failed (why); another follows after the backoff.
        case down(String)
    }

    /// What the link reports, called on its thread.
    struct Handlers: Sendable {
        /// A fresh connection: the commands that restore every subscription (sent first; commands
        /// queued before are dropped, which the handler must make safe, e.g. by calling
        /// `discardQueued()` under the lock that guards `enqueue`).
        let connected: @Sendable () -> [RedisCommand]
        /// Replies and messages Redis pushed, in order.
        let received: @Sendable ([RedisValue]) -> Void
        /// The connection broke or could not be made.
        let lost: @Sendable (String) -> Void
        /// A heartbeat interval passed.
        let tick: @Sendable () -> Void
    }

    private struct Shared {
        var state = State.idle
        var queue: [RedisCommand] = []
        var started = false
        var stopping = false
        var reconnectRequested = false
        var running = false
    }

    private let shared = Mutex(Shared())
    private let connect: @Sendable () throws -> RedisConnection
    private let heartbeat: Duration
    private let backoff: Duration
    private let backoffCap: Duration
    private let handlers: Handlers
    /// A pipe whose read end the thread polls; one byte written wakes it.
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(
        heartbeat: Duration, backoff: Duration, backoffCap: Duration, handlers: Handlers,
        connect: @escaping @Sendable () throws -> RedisConnection
    ) {
        self.heartbeat = heartbeat
        self.backoff = backoff
        self.backoffCap = max(backoffCap, backoff)
        self.handlers = handlers
        self.connect = connect
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        }
        wakeRead = ends[0]
        wakeWrite = ends[1]
    }

    deinit {
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// Where the connection stands now.
    var state: State { shared.withLock { $0.state } }

    /// Starts the thread unless it runs already.
    func startIfNeeded() {
        let start = shared.withLock { shared in
            guard !shared.started, !shared.stopping else { return false }
            shared.started = true
            shared.running = true
            shared.state = .connecting
            return true
        }
        if start { PoolThread.start(name: "redis-subscriber") { [self] in run() } }
    }

    /// Queues commands for the connection (sent in order, soon, by the link's thread).
    func enqueue(_ commands: [RedisCommand]) {
        guard !commands.isEmpty else { return }
        shared.withLock { $0.queue.append(contentsOf: commands) }
        wake()
    }

    /// Drops the queued commands (a fresh connection restores everything at once).
    func discardQueued() {
        shared.withLock { $0.queue.removeAll() }
    }

    /// Closes the connection and connects again at once (the master moved).
    func reconnect() {
        shared.withLock { $0.reconnectRequested = true }
        wake()
    }

    /// Ends the thread and closes the connection, waiting up to a second for it.
    func stop() {
        shared.withLock { $0.stopping = true }
        wake()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(1))
        while shared.withLock({ $0.running }), clock.now < deadline { usleep(1000) }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }

    // MARK: The thread

    private func run() {
        let clock = ContinuousClock()
        var connection: RedisConnection?
        var delay = backoff
        var nextAttempt = clock.now
        var nextBeat = clock.now.advanced(by: heartbeat)
        var random = SystemRandomNumberGenerator()

        func lose(_ reason: String) {
            connection?.close()
            connection = nil
            shared.withLock { $0.state = .down(reason) }
            handlers.lost(reason)
            let half = delay / 2
            nextAttempt = clock.now.advanced(by: half + half * Double.random(in: 0...1, using: &random))
            delay = min(delay * 2, backoffCap)
        }

        while true {
            let (stopping, reconnect) = shared.withLock { shared in
                defer { shared.reconnectRequested = false }
                return (shared.stopping, shared.reconnectRequested)
            }
            if stopping { break }
            if reconnect {
                // The master moved: drop a connection to the old one, and retry now rather than
                // after the backoff of earlier failed attempts.
                if connection != nil { lose("reconnecting: the master moved") }
                delay = backoff
                nextAttempt = clock.now
            }
            if connection == nil, clock.now >= nextAttempt {
                do {
                    let fresh = try connect()
                    let restore = handlers.connected()
                    if !restore.isEmpty { try fresh.write(restore) }
                    connection = fresh
                    delay = backoff
                    shared.withLock { $0.state = .connected }
                } catch {
                    lose("\(error)")
                }
            }
            if let open = connection {
                let queued = shared.withLock { shared in
                    defer { shared.queue.removeAll() }
                    return shared.queue
                }
                if !queued.isEmpty {
                    do throws(RedisError) { try open.write(queued) } catch { lose(error.description) }
                }
            }
            var descriptors = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if let connection { descriptors.append(pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
            let wakeAt = connection == nil ? min(nextBeat, nextAttempt) : nextBeat
            let timeout = max(0, Int32(clamping: Int64((wakeAt - clock.now).millisecondsDouble.rounded(.up))))
            _ = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if descriptors[0].revents != 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while Glibc.read(wakeRead, &sink, sink.count) > 0 {}
            }
            if descriptors.count > 1, descriptors[1].revents != 0, let open = connection {
                do throws(RedisError) {
                    let replies = try open.receiveAvailable()
                    if !replies.isEmpty { handlers.received(replies) }
                } catch {
                    lose(error.description)
                }
            }
            if clock.now >= nextBeat {
                handlers.tick()
                nextBeat = clock.now.advanced(by: heartbeat)
            }
        }
        connection?.close()
        shared.withLock { shared in
            shared.state = .idle
            shared.running = false
        }
    }
}
