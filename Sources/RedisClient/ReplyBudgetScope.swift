/// What `RedisConnectionOptions.maxReplyBytes` bounds in one round trip.
public enum ReplyBudgetScope: Sendable, Equatable {
    /// Each reply on its own: the round trip carries independent requests (a pipelined sender's
    /// batch), and one large reply must not count against the others.
    case eachReply
    /// All replies together: the round trip is one request's batch (`/pipeline`), whose replies
    /// all end up in one response.
    case allReplies
    /// No bound: the gateway's own reads of what Redis is (`COMMAND`, `CLUSTER SHARDS`), whose
    /// size no caller chooses, and which the gateway cannot work without.
    case unbounded
}
