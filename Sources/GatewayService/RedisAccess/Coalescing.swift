import RedisClient

/// Which requests may share a round trip with others (`PipelinedSender`): a few commands that
/// change no connection state and do not block. Transactions, blocking commands, subscriptions,
/// `CLIENT`, `DEBUG` and `SCRIPT`, and large batches (`/pipeline`) borrow a connection of their own.
enum Coalescing {
    /// The most commands of one request that still shares round trips.
    static let maxCommands = 8

    /// True when `commands` may be sent together with other requests' commands.
    static func allows(_ commands: [RedisCommand]) -> Bool {
        guard commands.count <= maxCommands else { return false }
        for command in commands {
            let name = command.name.uppercased()
            if CommandTable.connectionState.contains(name) || CommandTable.blocking[name] != nil || exclusive.contains(name) {
                return false
            }
        }
        return true
    }

    /// True when every one of `commands` only reads (Redis' own `readonly` flag): such requests are
    /// batched apart from writes, which Redis may hold back.
    static func onlyReads(_ commands: [RedisCommand]) -> Bool {
        commands.allSatisfy { CommandTable.readOnly.contains($0.name.uppercased()) }
    }

    /// Commands that hold or alter the connection beyond their own reply.
    private static let exclusive: Set<String> = ["CLIENT", "DEBUG", "SCRIPT", "FUNCTION", "SHUTDOWN", "FAILOVER"]
}
