import CoreUtilities
public import RedisClient

/// The command names the Redis server itself lists in its `COMMAND` reply, upper-cased: every
/// top-level name, and for each container command (`CLIENT`, `SCRIPT`, …) the subcommands it lists
/// (Redis 7 and Valkey list them; Redis 6 lists none, and then the gateway's own allow-lists decide).
/// The command policy admits a name only when it is, byte for byte up to ASCII case, one of these.
public struct ServerCommandNames: Sendable, Equatable {
    /// Top-level command names, upper-cased.
    let names: Set<String>
    /// Container name → its subcommands, upper-cased; only containers the server lists subcommands for.
    let subcommands: [String: Set<String>]
    /// Commands (`NAME`, or `CONTAINER|SUB`) the server flags `noscript`: a script can never call them.
    let notFromScripts: Set<String>

    /// The names given (upper-cased), for tests and for servers known in advance.
    init(names: some Sequence<String>, subcommands: [String: Set<String>] = [:], notFromScripts: Set<String> = []) {
        self.names = Set(names.map { $0.uppercased() })
        self.subcommands = subcommands.reduce(into: [:]) { $0[$1.key.uppercased()] = Set($1.value.map { $0.uppercased() }) }
        self.notFromScripts = Set(notFromScripts.map { $0.uppercased() })
    }

    /// Parses the reply to `COMMAND`: an entry per command, its name first, its flags third and
    /// (Redis 7) its subcommands tenth, each named `container|sub` with flags of its own.
    public init(commandReply reply: RedisValue) throws(GatewayError) {
        guard case .array(let entries) = reply, !entries.isEmpty else {
            throw .redis(RedisError(.protocolError, "Redis' COMMAND reply is not a list of commands"))
        }
        var names: Set<String> = []
        var subcommands: [String: Set<String>] = [:]
        var notFromScripts: Set<String> = []
        for entry in entries {
            guard case .array(let fields) = entry, let name = fields.first?.text else { continue }
            let upper = name.uppercased()
            names.insert(upper)
            if Self.flagsNoScript(fields) { notFromScripts.insert(upper) }
            guard fields.count > 9, case .array(let subs) = fields[9], !subs.isEmpty else { continue }
            var listed: Set<String> = []
            for sub in subs {
                guard case .array(let subFields) = sub, let full = subFields.first?.text else { continue }
                // "client|id" → "ID"
                listed.insert(String(full.uppercased().split(separator: "|", maxSplits: 1).last ?? ""))
                if Self.flagsNoScript(subFields) { notFromScripts.insert(full.uppercased()) }
            }
            subcommands[upper] = listed
        }
        self.init(names: names, subcommands: subcommands, notFromScripts: notFromScripts)
    }

    private static func flagsNoScript(_ fields: [RedisValue]) -> Bool {
        guard fields.count > 2, case .array(let flags) = fields[2] else { return false }
        return flags.contains { $0.text?.lowercased() == "noscript" }
    }

    /// Whether `name` (upper-cased) is a command the server lists.
    func contains(_ name: String) -> Bool {
        names.contains(name)
    }

    /// The subcommands the server lists for `name` (upper-cased); nil when it lists none.
    func subcommands(of name: String) -> Set<String>? {
        subcommands[name]
    }

    /// Whether `bytes` can be a command or subcommand name at all: 1 to 64 bytes of ASCII letters,
    /// digits, `_`, `-`, `.` and `:`. NUL, other control bytes, spaces, `|` and non-ASCII bytes never
    /// are, whatever Redis' own lookup would make of them.
    static func isWellFormedName(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"):
                true
            default:
                false
            }
        }
    }
}
