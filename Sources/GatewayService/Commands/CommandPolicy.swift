import ConnectionPool
import CoreUtilities

/// Which commands may run through the gateway. A pooled connection is shared, so nothing may change
/// its state or hold it indefinitely; administrative commands are refused unless a deployment
/// allows them; read-only tokens run read commands only.
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
        /// It would change the state of a shared connection.
        case connectionState(String)
        /// The deployment's policy refuses it.
        case denied(String)
        /// A read-only token tried to write.
        case readOnly(String)
        /// A blocking command whose timeout is 0 or not below the socket timeout.
        case blocking(String)
    }

    /// Checks one command for a caller; nil when it may run.
    func violation(of arguments: [[UInt8]], role: CallerRole) -> Violation? {
        review(arguments, role: role).violation
    }

    /// Checks one command for a caller and says whether it writes (for read-your-writes
    /// bookkeeping), naming the command once for both.
    func review(_ arguments: [[UInt8]], role: CallerRole) -> (violation: Violation?, writes: Bool) {
        let name = ASCIICase.uppercased(arguments[0])
        let qualified = CommandTable.qualifiedName(arguments, name: name)
        let writes = !CommandTable.readOnly.contains(name) && !CommandTable.readOnly.contains(qualified)
        return (violation(arguments, name: name, qualified: qualified, writes: writes, role: role), writes)
    }

    private func violation(
        _ arguments: [[UInt8]], name: String, qualified: String, writes: Bool, role: CallerRole
    ) -> Violation? {
        if CommandTable.connectionState.contains(name) {
            return .connectionState(
                "ERR \(name) is not allowed through the gateway: it changes the state of a shared pooled connection"
                    + (["MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"].contains(name) ? " (use /multi-exec)" : ""))
        }
        if name == "CLIENT", !CommandTable.harmlessClientSubcommands.contains(String(qualified.dropFirst(7))) {
            return .connectionState("ERR \(qualified) is not allowed through the gateway: it alters connections")
        }
        if let allowList {
            if !allowList.contains(name) && !allowList.contains(qualified) {
                return .denied("NOPERM \(qualified) is not in this gateway's command allow-list")
            }
        } else if denied.contains(name) || denied.contains(qualified) {
            return .denied("NOPERM \(qualified) is refused by this gateway's command policy")
        }
        if let problem = blockingProblem(name, arguments) {
            return .blocking(problem)
        }
        if role == .readOnly, writes {
            return .readOnly("NOPERM this token is read-only and \(qualified) writes")
        }
        return nil
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

    private func blockingProblem(_ name: String, _ arguments: [[UInt8]]) -> String? {
        guard let kind = CommandTable.blocking[name] else { return nil }
        let seconds: Double?
        switch kind {
        case .lastArgumentSeconds:
            seconds = arguments.count > 1 ? number(arguments[arguments.count - 1]) : nil
        case .firstArgumentSeconds:
            seconds = arguments.count > 1 ? number(arguments[1]) : nil
        case .lastArgumentMilliseconds:
            seconds = arguments.count > 1 ? number(arguments[arguments.count - 1]).map { $0 / 1000 } : nil
        case .blockOptionMilliseconds:
            guard let block = arguments.firstIndex(where: { String(decoding: $0, as: UTF8.self).uppercased() == "BLOCK" }) else {
                return nil
            }
            seconds = block + 1 < arguments.count ? number(arguments[block + 1]).map { $0 / 1000 } : nil
        }
        guard let seconds else { return nil }  // malformed: Redis will say so
        let limit = blockingLimit.secondsDouble
        if seconds <= 0 {
            return "ERR \(name) with timeout 0 would hold a pooled connection forever; use a timeout below \(limit) s"
        }
        if seconds >= limit {
            return "ERR \(name) timeout \(seconds) s is not below the gateway's socket timeout (\(limit) s)"
        }
        return nil
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
