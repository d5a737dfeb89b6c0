import CoreUtilities
import RedisClient

/// Which requests may share a round trip with others (`PipelinedSender`), and with which: a few
/// commands that change no connection state and do not block. Read-only requests are batched apart
/// from the others, so a write Redis holds back (`CLIENT PAUSE WRITE`) never stalls reads.
/// Transactions, blocking commands, subscriptions, `CLIENT`, `DEBUG` and `SCRIPT`, and large
/// batches (`/pipeline`) borrow a connection of their own.
enum Coalescing {
    /// The batches a request may join.
    enum Lane {
        /// Every command only reads (Redis' own `readonly` flag).
        case reads
        /// At least one command may write.
        case writes
    }

    /// The most commands of one request that still shares round trips.
    static let maxCommands = 8

    /// The lane for `commands`, or nil when they must borrow a connection of their own. Names each
    /// command once.
    static func lane(of commands: [RedisCommand]) -> Lane? {
        guard commands.count <= maxCommands else { return nil }
        var onlyReads = true
        for command in commands {
            let name = ASCIICase.uppercased(command.arguments[0])
            if CommandTable.connectionState.contains(name) || CommandTable.blocking[name] != nil || exclusive.contains(name) {
                return nil
            }
            if onlyReads, !CommandTable.readOnly.contains(name) { onlyReads = false }
        }
        return onlyReads ? .reads : .writes
    }

    /// Commands that hold or alter the connection beyond their own reply.
    private static let exclusive: Set<String> = ["CLIENT", "DEBUG", "SCRIPT", "FUNCTION", "SHUTDOWN", "FAILOVER"]
}
