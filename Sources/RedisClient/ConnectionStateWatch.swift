/// Watches what runs on one connection for anything that may leave its state changed for the
/// connection's next user: database, transaction, subscription, monitor, reply mode, client name,
/// user, tracking, the Lua debugger. The pool's second line of defence behind the command policy:
/// once `changed` is true the connection is never lent again.
///
/// Names are read as Redis reads them, not as a parser of ours would: Redis 7.0 looks command and
/// subcommand names up with `strcasecmp`, which stops at the first NUL byte, so `SELECT\0junk` can run
/// as `SELECT`. Here a name counts up to its first NUL, ASCII case-insensitively.
///
/// Replies are checked too: a `QUEUED` outside a transaction, or a line of `MONITOR` output, can only
/// come from a connection whose state changed.
public struct ConnectionStateWatch: Sendable, Equatable {
    /// True once something ran or came back that may have changed the connection's state.
    public private(set) var changed = false
    /// Inside MULTI … EXEC / DISCARD (sent by the gateway's own `/multi-exec`).
    private var inTransaction = false
    /// An `ASKING` whose one-shot flag no later command consumed yet.
    private var askingPending = false

    /// Nothing seen yet.
    public init() {}

    /// Commands that change the state of the connection they run on.
    static let stateChanging: Set<[UInt8]> = Set(
        [
            "SELECT", "AUTH", "HELLO", "RESET", "QUIT", "WATCH", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
            "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR", "READONLY", "READWRITE", "SYNC", "PSYNC", "REPLCONF",
        ].map { Array($0.utf8) })

    /// CLIENT subcommands that leave the connection as it was; every other one may change it.
    static let harmlessClientSubcommands: Set<[UInt8]> = Set(["ID", "INFO", "GETNAME", "HELP", "LIST"].map { Array($0.utf8) })

    /// Records that `arguments` ran and answered `reply` (in the order they were sent).
    public mutating func ran(_ arguments: [[UInt8]], reply: RedisValue) {
        sent(arguments)
        guard case .status(let text) = reply else { return }
        if text == "QUEUED", !inTransaction { changed = true }
        if Self.looksLikeMonitorOutput(text) { changed = true }
    }

    private mutating func sent(_ arguments: [[UInt8]]) {
        guard let first = arguments.first else { return }
        let name = Self.nameAsRedisReadsIt(first)
        askingPending = false
        switch name {
        case Array("MULTI".utf8):
            inTransaction = true  // a nested MULTI is refused by Redis and changes nothing
        case Array("EXEC".utf8), Array("DISCARD".utf8):
            inTransaction = false
        case Array("ASKING".utf8):
            askingPending = true
        case Array("CLIENT".utf8):
            let sub = arguments.count > 1 ? Self.nameAsRedisReadsIt(arguments[1]) : []
            if !Self.harmlessClientSubcommands.contains(sub) { changed = true }
        case Array("SCRIPT".utf8):
            if arguments.count > 1, Self.nameAsRedisReadsIt(arguments[1]) == Array("DEBUG".utf8) { changed = true }
        default:
            if Self.stateChanging.contains(name) { changed = true }
        }
    }

    /// The end of one round trip: a transaction left open, or an unconsumed `ASKING`, changes what
    /// the next user's commands do.
    public mutating func roundTripFinished() {
        if inTransaction || askingPending { changed = true }
    }

    /// The name up to its first NUL byte, upper-cased in ASCII: what Redis 7.0's command lookup
    /// compares.
    public static func nameAsRedisReadsIt(_ bytes: [UInt8]) -> [UInt8] {
        var name: [UInt8] = []
        name.reserveCapacity(min(bytes.count, 32))
        for byte in bytes {
            if byte == 0 { break }
            name.append(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte)
        }
        return name
    }

    /// `1700000000.123456 [0 127.0.0.1:5000] "GET" "k"`: what MONITOR pushes.
    static func looksLikeMonitorOutput(_ text: String) -> Bool {
        var sawDigit = false
        var sawDot = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "."): if sawDot { return false } else { sawDot = true }
            case UInt8(ascii: " "): return sawDigit && sawDot && text.utf8.contains(UInt8(ascii: "["))
            default: return false
            }
        }
        return false
    }
}
