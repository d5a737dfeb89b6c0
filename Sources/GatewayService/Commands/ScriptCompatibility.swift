import CoreUtilities
import RedisClient

/// Runs scripts whose shebang carries flags Redis does not know (Upstash's `allow-key-locking`):
/// EVAL, EVAL_RO and SCRIPT LOAD send the script with only the known flags; EVALSHA, EVALSHA_RO and
/// SCRIPT EXISTS translate the client's digest to the rewritten script's; SCRIPT LOAD answers with
/// the client's digest; NOSCRIPT and SCRIPT FLUSH keep the map honest.
///
/// Threading: stateless apart from the shared `ScriptDigests`.
struct ScriptCompatibility: Sendable {
    let digests: ScriptDigests

    /// How to treat the reply of a command that was prepared.
    enum Followup: Sendable {
        /// Nothing.
        case none
        /// SCRIPT LOAD of a rewritten script: answer with the client's digest.
        case loadedAs(String)
        /// EVALSHA of a rewritten script: on NOSCRIPT, forget it.
        case ranAs(String)
        /// SCRIPT FLUSH: forget every rewritten script once Redis flushed.
        case flushed
    }

    /// `command` as it is to be sent to Redis, and what to do with its reply.
    func prepare(_ command: [[UInt8]]) -> (command: [[UInt8]], followup: Followup) {
        guard let first = command.first, first.count >= 4, first.count <= 10 else { return (command, .none) }
        let name = ASCIICase.uppercased(first)
        var prepared = command
        switch name {
        case "EVAL", "EVAL_RO":
            guard command.count > 1, let rewritten = ScriptShebang.withoutUnknownFlags(command[1]) else { return (command, .none) }
            digests.remember(original: ScriptDigests.digest(command[1]), rewritten: ScriptDigests.digest(rewritten))
            prepared[1] = rewritten
            return (prepared, .none)
        case "EVALSHA", "EVALSHA_RO":
            guard command.count > 1 else { return (command, .none) }
            let digest = String(decoding: command[1], as: UTF8.self)
            guard let mapped = digests.rewritten(for: digest) else { return (command, .none) }
            prepared[1] = Array(mapped.utf8)
            return (prepared, .ranAs(digest))
        case "SCRIPT":
            guard command.count > 1 else { return (command, .none) }
            switch String(decoding: command[1], as: UTF8.self).uppercased() {
            case "LOAD":
                guard command.count > 2, let rewritten = ScriptShebang.withoutUnknownFlags(command[2]) else { return (command, .none) }
                let original = ScriptDigests.digest(command[2])
                digests.remember(original: original, rewritten: ScriptDigests.digest(rewritten))
                prepared[2] = rewritten
                return (prepared, .loadedAs(original))
            case "EXISTS":
                for index in prepared.indices.dropFirst(2) {
                    if let mapped = digests.rewritten(for: String(decoding: command[index], as: UTF8.self)) {
                        prepared[index] = Array(mapped.utf8)
                    }
                }
                return (prepared, .none)
            case "FLUSH":
                return (command, .flushed)
            default:
                return (command, .none)
            }
        default:
            return (command, .none)
        }
    }

    /// The reply the client sees for a prepared command's `reply`.
    func finish(_ followup: Followup, reply: RedisValue) -> RedisValue {
        switch followup {
        case .none:
            return reply
        case .loadedAs(let original):
            return reply.errorMessage == nil ? .bulk(Array(original.utf8)) : reply
        case .ranAs(let digest):
            if reply.errorMessage?.hasPrefix("NOSCRIPT") == true { digests.forget(digest) }
            return reply
        case .flushed:
            if reply.errorMessage == nil { digests.forgetAll() }
            return reply
        }
    }
}
