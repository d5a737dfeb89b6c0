import ConnectionPool
import CoreUtilities
import RedisClient

/// The one policy that decides which kind of lease a request takes from the pool (`LeaseKind`),
/// built from the command table.
///
/// - **Shared:** a few commands that change no connection state and do not block; they ride one
///   connection with other requests' commands (`SharedConnectionIO`). Read-only requests share apart
///   from the others (group `reads` and `writes`), so a write Redis holds back (`CLIENT PAUSE
///   WRITE`) never stalls reads.
/// - **Exclusive:** transactions, blocking commands, subscriptions, `CLIENT`, `DEBUG`, `SCRIPT`,
///   `FUNCTION`, batches of more than `maxSharedCommands` (`/pipeline`), and the gateway's own
///   unbounded reads (`COMMAND`): the connection is the request's alone.
///
/// On a shared connection each request's replies still share one reply budget, as on its own.
enum LeasePolicy {
    /// The shared group of read-only requests.
    static let reads = 0
    /// The shared group of requests that may write.
    static let writes = 1

    /// The most commands of one request that still takes a shared lease.
    static let maxSharedCommands = 8

    /// The kind of lease `commands` take, their replies bounded by `budget` (unbounded replies, the
    /// gateway's own reads, take an exclusive lease). Names each command once.
    static func kind(of commands: [RedisCommand], budget: ReplyBudgetScope = .allReplies) -> LeaseKind {
        guard commands.count <= maxSharedCommands, budget == .allReplies else { return .exclusive }
        var onlyReads = true
        for command in commands {
            let name = ASCIICase.uppercased(command.arguments[0])
            if CommandTable.connectionState.contains(name) || CommandTable.blocking[name] != nil || exclusive.contains(name) {
                return .exclusive
            }
            if onlyReads, !CommandTable.readOnly.contains(name) { onlyReads = false }
        }
        return .shared(group: onlyReads ? reads : writes)
    }

    /// Commands that hold or alter the connection beyond their own reply.
    private static let exclusive: Set<String> = ["CLIENT", "DEBUG", "SCRIPT", "FUNCTION", "SHUTDOWN", "FAILOVER"]
}
