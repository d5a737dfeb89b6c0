/// A cluster redirection error reply: `MOVED <slot> <host>:<port>` (the slot lives elsewhere for
/// good) or `ASK <slot> <host>:<port>` (it is being migrated: ask the target once, after `ASKING`).
public struct ClusterRedirect: Sendable, Equatable {
    /// Which redirection.
    public enum Kind: Sendable, Equatable {
        /// The slot's owner changed: update the slot map.
        case moved
        /// The key may already be on the importing node: send `ASKING` and the command there, once.
        case ask
    }

    /// MOVED or ASK.
    public let kind: Kind
    /// The slot named in the reply.
    public let slot: Int
    /// The node to send the command to.
    public let address: ServerAddress

    /// The redirection in `message`, or nil when it is no MOVED or ASK reply.
    public init?(_ message: String) {
        let parts = message.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]), (0..<HashSlot.count).contains(slot),
            let colon = parts[2].lastIndex(of: ":"), let port = Int(parts[2][parts[2].index(after: colon)...])
        else { return nil }
        switch parts[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        var host = parts[2][..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        self.slot = slot
        self.address = ServerAddress(host: String(host), port: port)
    }
}
