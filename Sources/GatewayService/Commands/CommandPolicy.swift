import ConnectionPool
import CoreUtilities

/// Which commands may run through the gateway. Only names the server itself lists run (and of
/// container commands only allow-listed subcommands), so no odd byte in a name can make Redis run
/// something the policy did not judge. A pooled connection is shared, so nothing may change its
/// state or hold it indefinitely; administrative commands are refused unless a deployment allows
/// them; read-only tokens run read commands only.
public struct CommandPolicy: Sendable, Equatable {
    /// Refused commands (names, or `NAME SUBCOMMAND`); administrative ones by default.
    public var denied: Set<String> = CommandTable.administrative
    /// When set, only these commands may run (allow-list mode); connection-state commands stay refused.
    public var allowList: Set<String>?
    /// A blocking command must time out sooner than this (the socket timeout), and never be 0.
    public var blockingLimit: Duration = .seconds(1)

    /// The default policy: administrative commands refused, no allow-list.
    public init() {}

    /// Why a command was refused.
    enum Violation: Error, Equatable {
        /// Not a command the server lists, or a subcommand the gateway does not let through: never
        /// sent (NUL and other odd bytes in a name land here).
        case unknownCommand(String)
        /// It would change the state of a shared connection.
        case connectionState(String)
        /// The deployment's policy refuses it.
        case denied(String)
        /// A read-only token tried to write.
        case readOnly(String)
        /// A blocking command whose timeout is 0 or not below the socket timeout.
        case blocking(String)
    }

    /// What the policy found about one command.
    struct Review: Equatable {
        /// Why it may not run; nil when it may.
        var violation: Violation?
        /// Whether it writes (for read-your-writes bookkeeping and read-only tokens).
        var writes: Bool
        /// How long it may block Redis' answer, in seconds (0 for a command that does not block):
        /// a batch adds these up against the same limit as one command.
        var blockingSeconds: Double
    }

    /// Checks one command for a caller; nil when it may run.
    func violation(of arguments: [[UInt8]], role: CallerRole, names: ServerCommandNames) -> Violation? {
        review(arguments, role: role, names: names).violation
    }

    /// Checks one command for a caller against the names the server lists, and says whether it
    /// writes and how long it may block.
    func review(_ arguments: [[UInt8]], role: CallerRole, names: ServerCommandNames) -> Review {
        var review = Review(violation: nil, writes: true, blockingSeconds: 0)
        let qualified: String
        switch canonicalName(arguments, names: names) {
        case .failure(let violation):
            review.violation = violation
            return review
        case .success(let name):
            qualified = name
        }
        let name = qualified.split(separator: " ", maxSplits: 1).first.map(String.init) ?? qualified
        review.writes = !CommandTable.readOnly.contains(name) && !CommandTable.readOnly.contains(qualified)
        if CommandTable.connectionState.contains(name) {
            review.violation = .connectionState(
                "ERR \(name) is not allowed through the gateway: it changes the state of a shared pooled connection"
                    + (["MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"].contains(name) ? " (use /multi-exec)" : ""))
            return review
        }
        if let allowList {
            if !allowList.contains(name) && !allowList.contains(qualified) {
                review.violation = .denied("NOPERM \(qualified) is not in this gateway's command allow-list")
                return review
            }
        } else if denied.contains(name) || denied.contains(qualified) {
            review.violation = .denied("NOPERM \(qualified) is refused by this gateway's command policy")
            return review
        }
        switch blockingTime(name, arguments) {
        case .failure(let violation):
            review.violation = violation
            return review
        case .success(let seconds):
            review.blockingSeconds = seconds
        }
        if role == .readOnly, review.writes {
            review.violation = .readOnly("NOPERM this token is read-only and \(qualified) writes")
        }
        return review
    }

    /// The command's canonical name (`GET`, or `SCRIPT LOAD` for a container): only a name the
    /// server lists, and for a container a subcommand in the gateway's allow-list that the server
    /// lists too. Everything else is refused before it could reach Redis.
    private func canonicalName(_ arguments: [[UInt8]], names: ServerCommandNames) -> Result<String, Violation> {
        guard let first = arguments.first, ServerCommandNames.isWellFormedName(first) else {
            return .failure(.unknownCommand("ERR \(Self.shown(arguments.first ?? [])) is not a command name"))
        }
        let name = ASCIICase.uppercased(first)
        guard names.contains(name) else {
            return .failure(.unknownCommand("ERR unknown command '\(name)': this Redis does not list it"))
        }
        let listed = names.subcommands(of: name)
        guard listed != nil || CommandTable.containers.contains(name) else { return .success(name) }
        guard arguments.count > 1 else {
            if CommandTable.runsWithoutSubcommand.contains(name) { return .success(name) }
            return .failure(.unknownCommand("ERR \(name) needs a subcommand"))
        }
        guard ServerCommandNames.isWellFormedName(arguments[1]) else {
            return .failure(.unknownCommand("ERR \(Self.shown(arguments[1])) is not a \(name) subcommand"))
        }
        let sub = ASCIICase.uppercased(arguments[1])
        guard let allowed = CommandTable.subcommands[name], allowed.contains(sub) else {
            if name == "CLIENT" || (name == "SCRIPT" && sub == "DEBUG") {
                return .failure(.connectionState("ERR \(name) \(sub) is not allowed through the gateway: it alters connections"))
            }
            return .failure(.unknownCommand("ERR \(name) \(sub) is not a subcommand this gateway lets through"))
        }
        if let listed, !listed.contains(sub) {
            return .failure(.unknownCommand("ERR unknown subcommand '\(name) \(sub)': this Redis does not list it"))
        }
        return .success(name + " " + sub)
    }

    /// A name for an error message: printable ASCII as it is, other bytes as `\xNN`.
    private static func shown(_ bytes: [UInt8]) -> String {
        var text = "'"
        for byte in bytes.prefix(64) {
            if byte >= 0x21 && byte < 0x7F && byte != UInt8(ascii: "'") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text.unicodeScalars.append(contentsOf: [
                    "\\", "x", Unicode.Scalar(HexDigit.lowercase(byte >> 4)), Unicode.Scalar(HexDigit.lowercase(byte & 0xF)),
                ])
            }
        }
        return text + (bytes.count > 64 ? "…'" : "'")
    }

    /// Checks `SUBSCRIBE` or `PSUBSCRIBE` for an event stream, which holds no pooled connection:
    /// only the deployment's deny list and allow-list apply (read-only tokens may subscribe).
    func subscriptionViolation(_ name: String) -> Violation? {
        if let allowList, !allowList.contains(name) {
            return .denied("NOPERM \(name) is not in this gateway's command allow-list")
        }
        if allowList == nil, denied.contains(name) {
            return .denied("NOPERM \(name) is refused by this gateway's command policy")
        }
        return nil
    }

    /// How long a blocking command may block, checked against `blockingLimit`. Every occurrence of
    /// XREAD's `BLOCK` option is checked (Redis takes the last one): a command is judged by what Redis
    /// will do, not by the first match.
    private func blockingTime(_ name: String, _ arguments: [[UInt8]]) -> Result<Double, Violation> {
        guard let kind = CommandTable.blocking[name] else { return .success(0) }
        var timeouts: [Double?] = []
        switch kind {
        case .lastArgumentSeconds:
            timeouts = [arguments.count > 1 ? number(arguments[arguments.count - 1]) : nil]
        case .firstArgumentSeconds:
            timeouts = [arguments.count > 1 ? number(arguments[1]) : nil]
        case .lastArgumentMilliseconds:
            timeouts = [arguments.count > 1 ? number(arguments[arguments.count - 1]).map { $0 / 1000 } : nil]
        case .blockOptionMilliseconds:
            // Options come before STREAMS; after it, every argument is a key or an ID.
            let options = arguments.prefix { ASCIICase.uppercased($0) != "STREAMS" }
            for (index, argument) in options.enumerated() where index > 0 && ASCIICase.uppercased(argument) == "BLOCK" {
                timeouts.append(index + 1 < options.count ? number(options[index + 1]).map { $0 / 1000 } : nil)
            }
        }
        let limit = blockingLimit.secondsDouble
        var longest = 0.0
        for seconds in timeouts {
            guard let seconds else { continue }  // malformed: Redis will say so
            if seconds <= 0 {
                return .failure(
                    .blocking("ERR \(name) with timeout 0 would hold a pooled connection forever; use a timeout below \(limit) s"))
            }
            if seconds >= limit {
                return .failure(.blocking("ERR \(name) timeout \(seconds) s is not below the gateway's socket timeout (\(limit) s)"))
            }
            longest = max(longest, seconds)
        }
        return .success(longest)
    }

    private func number(_ bytes: [UInt8]) -> Double? {
        Double(String(decoding: bytes, as: UTF8.self))
    }
}

/// What a caller's token allows.
public enum CallerRole: Sendable, Equatable {
    /// Every command the policy allows.
    case full
    /// Read commands only.
    case readOnly
}
