import RedisClient

/// The error replies by which Redis says it cannot serve *now*, not that the command is wrong:
///
/// - `LOADING`: it is reading its dataset back (after a restart, a replica's full sync);
/// - `BUSY`: a script or function runs past `busy-reply-threshold`;
/// - `MASTERDOWN`: a replica lost its master and does not serve stale data;
/// - `NOREPLICAS`: too few replicas are connected for `min-replicas-to-write`.
///
/// A request that Redis refused this way ran nothing, and the caller did nothing wrong: it gets a
/// 503 with `Retry-After`, like Redis down — never a 4xx, never a 200 whose every result is the
/// refusal. (Only the first word counts: `BUSYKEY` and `BUSYGROUP` are the caller's own conflicts.)
enum UnavailableReply {
    static let codes: Set<Substring> = ["LOADING", "BUSY", "MASTERDOWN", "NOREPLICAS"]

    /// The refusal when Redis refused the whole of `sent`: every reply is such a refusal, apart
    /// from a transaction's frame (MULTI's `OK`, `QUEUED`, and EXEC's `EXECABORT`: Redis discarded
    /// the transaction). Nil when any command ran or failed for its own reasons (a `/pipeline`
    /// whose commands partly ran keeps its per-command results).
    static func refusal(of replies: [RedisValue], sent: [RedisCommand]) -> String? {
        var refusal: String?
        for (index, reply) in replies.enumerated() {
            let name = index < sent.count ? sent[index].name.uppercased() : ""
            switch reply {
            case .status("OK") where name == "MULTI", .status("QUEUED"):
                continue
            case .error(let message) where name == "EXEC" && message.hasPrefix("EXECABORT"):
                continue
            case .error(let message) where codes.contains(message.prefix { $0 != " " }):
                refusal = refusal ?? message
            default:
                return nil
            }
        }
        return refusal
    }
}
