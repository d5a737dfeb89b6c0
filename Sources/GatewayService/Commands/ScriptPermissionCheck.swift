import Logging
import RedisClient

/// The command policy stops what callers send, but a script (`EVAL`, `FCALL`) runs its
/// `redis.call`s as the gateway's own Redis user: only Redis' ACL stops `EVAL "return
/// redis.call('FLUSHALL')" 0`. Once the server's command names are known, this asks Redis which of
/// the commands the policy refuses that user could still run from a script, and logs a warning with
/// the `ACL SETUSER` line that would close them.
///
/// It asks from inside a script, with `redis.acl_check_cmd` (Redis ≥ 7.0; the same permission check
/// as `ACL DRYRUN`), because `ACL DRYRUN` itself needs the administrative rights a safely restricted
/// user lacks, while any user that can run scripts (the only ones at risk) can run this one. Commands
/// Redis never lets a script call (flag `noscript`: `MULTI`, `SUBSCRIBE`, `CLIENT`, …) are left out.
struct ScriptPermissionCheck: Sendable {
    /// What the check found.
    enum Finding: Equatable, Sendable {
        /// The user can run none of them from a script.
        case closed
        /// The user could run these (`NAME` or `CONTAINER|SUB`, upper-cased) from a script.
        case open([String])
        /// The user cannot run scripts at all (`EVAL` is refused), so scripts open nothing.
        case noScripts(String)
        /// The server cannot answer (before Redis 7.0, or another error).
        case unknown(String)
    }

    let policy: CommandPolicy

    /// Of the commands that change a connection's state (refused to callers), the ones that reach
    /// past a script's own context: in Redis 7 a script's `SELECT` changes only the script's
    /// database, but lets it read and write any database. (`READONLY`, `ASKING` and the like stay
    /// inside the script; `MULTI`, `SUBSCRIBE`, `MONITOR`, … are `noscript`.)
    static let beyondTheScript: Set<String> = ["SELECT"]

    /// Asks the server lists in `names` which commands `policy` refuses and scripts could call.
    func commandsToCheck(_ names: ServerCommandNames) -> [String] {
        var specs: Set<String> = []
        let refusedNames: Set<String>
        if let allowList = policy.allowList {
            refusedNames = names.names.subtracting(allowList)
        } else {
            refusedNames = policy.denied.union(Self.beyondTheScript)
        }
        for entry in refusedNames {
            let parts = entry.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 1, let listed = names.subcommands(of: parts[0]) {
                // A container refused whole: each of its subcommands (Redis' answer for the bare
                // container name says nothing about them).
                for sub in listed where sub != "HELP" { specs.insert("\(parts[0])|\(sub)") }
            } else {
                specs.insert(parts.joined(separator: "|"))
            }
        }
        // Subcommands no allow-list lets through (`CLIENT KILL`, `CONFIG SET`, …).
        for (container, listed) in names.subcommands {
            guard let allowed = CommandTable.subcommands[container] else {
                specs.insert(container)
                continue
            }
            for sub in listed where !allowed.contains(sub) { specs.insert("\(container)|\(sub)") }
        }
        return specs.filter { spec in
            let container = spec.split(separator: "|", maxSplits: 1).first.map(String.init) ?? spec
            return names.contains(container) && !names.notFromScripts.contains(container) && !names.notFromScripts.contains(spec)
        }.sorted()
    }

    /// Runs on `redis` (blocks; call it on a thread that may wait).
    func run(_ names: ServerCommandNames, on redis: RedisExecutor) -> Finding {
        let specs = commandsToCheck(names)
        guard !specs.isEmpty else { return .closed }
        let reply: RedisValue
        do throws(GatewayError) {
            reply = try redis.execute(
                [RedisCommand(arguments: [Array("EVAL".utf8), Array(Self.script.utf8), Array("0".utf8)] + specs.map { Array($0.utf8) })],
                label: "script-permission-check")[0]
        } catch {
            return .unknown("\(error)")
        }
        switch reply {
        case .array(let open):
            let found = open.compactMap(\.text)
            return found.isEmpty ? .closed : .open(found)
        case .error(let message) where message.hasPrefix("NOPERM"):
            return .noScripts(message)
        case .error(let message):
            return .unknown(message)
        case .null, .status, .integer, .bulk:
            return .unknown("unexpected reply to the check's script")
        }
    }

    /// Logs what `finding` means for the deployment, naming `user`.
    static func log(_ finding: Finding, user: String, to logger: Logger) {
        switch finding {
        case .closed:
            logger.info("the Redis user runs none of the commands the policy refuses from a script", metadata: ["user": "\(user)"])
        case .open(let specs):
            logger.warning(
                "the gateway's Redis user could run commands its policy refuses from a script (EVAL, FCALL): close them in Redis' ACL",
                metadata: ["user": "\(user)", "commands": "\(specs.joined(separator: ","))", "fix": "\(setUserLine(user: user, specs))"])
        case .noScripts:
            logger.info("the Redis user cannot run scripts: scripts open nothing the policy refuses", metadata: ["user": "\(user)"])
        case .unknown(let reason):
            logger.notice(
                "cannot check what the Redis user could run from a script (Redis 7.0 or later answers it)",
                metadata: ["reason": "\(reason)"])
        }
    }

    /// The `ACL SETUSER` line that takes `specs` away from `user`.
    static func setUserLine(user: String, _ specs: [String]) -> String {
        let rules = specs.map { spec in
            let rule = "-" + spec.lowercased()
            return spec.contains("|") ? "'\(rule)'" : rule
        }
        return (["ACL SETUSER", user] + rules).joined(separator: " ")
    }

    /// For each argument (`NAME` or `CONTAINER|SUB`), whether the running user may call it; returns
    /// the ones it may. `pcall`: a name this server does not know is skipped, never an error.
    static let script = """
        if redis.acl_check_cmd == nil then return redis.error_reply('ERR redis.acl_check_cmd needs Redis 7.0') end
        local open = {}
        for _, spec in ipairs(ARGV) do
          local bar = string.find(spec, '|', 1, true)
          local ok, allowed
          if bar then
            ok, allowed = pcall(redis.acl_check_cmd, string.sub(spec, 1, bar - 1), string.sub(spec, bar + 1))
          else
            ok, allowed = pcall(redis.acl_check_cmd, spec)
          end
          if ok and allowed then open[#open + 1] = spec end
        end
        return open
        """
}
