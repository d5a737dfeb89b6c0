import RedisClient

/// The compare-and-set behind `PUT /cache/{key}` with `If-Match`: one Lua script, so reading the
/// stored value, comparing its tag and writing are one atomic step in Redis (no `WATCH`, which
/// would pin a connection across round trips). Its tag is `EntityTag`'s, computed by
/// `redis.sha1hex` on the same bytes.
///
/// Replies 1 when it wrote, 0 when the key is absent or its tag is not listed; a key of another
/// type answers Redis' WRONGTYPE error.
enum ConditionalSet {
    static let source = """
        local current = redis.call('GET', KEYS[1])
        if not current then return 0 end
        local tag = '"' .. redis.sha1hex(current) .. '"'
        for i = 3, #ARGV do
          if ARGV[i] == '*' or ARGV[i] == tag then
            if ARGV[2] == '' then
              redis.call('SET', KEYS[1], ARGV[1])
            else
              redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
            end
            return 1
          end
        end
        return 0
        """

    /// The script's call: store `value` at `key` (for `ttl` seconds, when given) if the stored
    /// value's tag is one of `tags`. EVAL, not EVALSHA: Redis caches the compiled script by its
    /// digest, and a conditional write is not the hot path worth a NOSCRIPT round trip.
    static func command(key: [UInt8], value: [UInt8], ttl: [UInt8]?, tags: [String]) -> RedisCommand {
        RedisCommand(
            arguments: [Array("EVAL".utf8), Array(source.utf8), Array("1".utf8), key, value, ttl ?? []] + tags.map { Array($0.utf8) })
    }
}
