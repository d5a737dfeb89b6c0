import RedisClient

/// Makes a write count as done only once replicas have it: `WAIT replicas timeout` is pipelined
/// after every request that writes, and a write no replica confirmed in time is answered 504 rather
/// than acknowledged. With Sentinel this is what keeps a failover from losing writes the gateway
/// already acknowledged (replication is asynchronous; a promoted replica has only what it received).
public struct ReplicaAcknowledgement: Sendable, Equatable {
    /// Replicas that must confirm each write; 0 turns the check off.
    public var replicas = 0
    /// How long Redis waits for them (the `WAIT` timeout).
    public var timeout: Duration = .milliseconds(100)

    /// Off: writes are acknowledged when the master has them.
    public init() {}

    /// The `WAIT` to append to `commands`, or nil when none is needed (off, or nothing writes).
    func wait(after commands: [RedisCommand]) -> RedisCommand? {
        guard replicas > 0 else { return nil }
        let writes = commands.contains { !CommandTable.readOnly.contains(CommandTable.qualifiedName($0.arguments)) }
        guard writes else { return nil }
        let milliseconds = max(1, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        return RedisCommand("WAIT", String(replicas), String(milliseconds))
    }
}
