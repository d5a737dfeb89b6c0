import RedisClient
import Synchronization

/// The server's command names (`ServerCommandNames`), read once from Redis with `COMMAND` and kept.
/// Read by the first command request, on a thread that may wait (requests that come meanwhile wait
/// for the same read); a read that fails, Redis being down, fails those requests like any other call
/// to a Redis that is down (503), and the next request reads again.
///
/// After a failover (`forget()`) the next request reads the new master's list: it may run
/// another version.
///
/// Threading: shared by every handler; at most one read runs at a time, others wait for it.
final class ServerCommandCatalog: Sendable {
    private let known = Mutex<ServerCommandNames?>(nil)
    /// Held while a read runs, so concurrent first requests send one `COMMAND`, not one each.
    private let reading = Mutex<Void>(())
    /// Runs after each successful read, on the reading thread (before the names are used): the
    /// script permission check. Set once, after the catalog is made.
    private let onRead = Mutex<(@Sendable (ServerCommandNames) -> Void)?>(nil)

    /// Empty until the first read.
    init() {}

    /// A catalog that already knows `names` (tests).
    init(names: ServerCommandNames) {
        known.withLock { $0 = names }
    }

    /// Runs `body` after every read of the list (the first, and each after `forget()`).
    func afterEachRead(_ body: @escaping @Sendable (ServerCommandNames) -> Void) {
        onRead.withLock { $0 = body }
    }

    /// Drops the list, so the next request reads it again (the master changed).
    func forget() {
        known.withLock { $0 = nil }
    }

    /// The names when already read; nil before.
    var current: ServerCommandNames? {
        known.withLock { $0 }
    }

    /// The names, read from Redis through `redis` first when not known yet. Blocks: call it only on a
    /// thread that may wait for Redis.
    func names(readingWith redis: RedisExecutor) throws(GatewayError) -> ServerCommandNames {
        if let names = current { return names }
        return try reading.withLock { _ throws(GatewayError) -> ServerCommandNames in
            if let names = current { return names }
            // Unbounded: its size is the server's, never a caller's, and nothing works without it.
            let names = try ServerCommandNames(
                commandReply: redis.execute(RedisCommand("COMMAND"), label: "command-names", budget: .unbounded))
            onRead.withLock { $0 }?(names)
            known.withLock { $0 = names }
            return names
        }
    }
}
