import CoreUtilities

/// What the gateway knows about Redis commands: which only read, which change the state of a
/// connection (and so can never run on a shared pooled one), which are administrative, and where
/// blocking commands keep their timeout. Redis stays the authority on syntax: unknown commands are
/// passed through.
enum CommandTable {
    /// Commands that change the state of the connection they run on. A pooled connection is
    /// shared, so these are always refused (transactions go through `/multi-exec`).
    static let connectionState: Set<String> = [
        "SELECT", "AUTH", "HELLO", "RESET", "QUIT", "WATCH", "UNWATCH", "MULTI", "EXEC", "DISCARD",
        "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",
        "READONLY", "READWRITE", "ASKING", "SYNC", "PSYNC", "REPLCONF",
    ]

    /// CLIENT subcommands that only read; every other CLIENT subcommand alters a connection.
    static let harmlessClientSubcommands: Set<String> = ["ID", "INFO", "GETNAME", "HELP"]

    /// Administrative and dangerous commands, refused unless a deployment allows them.
    static let administrative: Set<String> = [
        "FLUSHALL", "FLUSHDB", "CONFIG", "SHUTDOWN", "DEBUG", "SAVE", "BGSAVE", "BGREWRITEAOF", "REPLICAOF",
        "SLAVEOF", "MODULE", "ACL", "FAILOVER", "CLUSTER", "MIGRATE", "SWAPDB", "LATENCY", "SLOWLOG", "MEMORY",
        "LASTSAVE", "RESTORE-ASKING", "PFDEBUG", "PFSELFTEST", "SCRIPT KILL", "FUNCTION KILL", "FUNCTION FLUSH",
        "SCRIPT FLUSH", "FUNCTION DELETE", "FUNCTION RESTORE", "FUNCTION LOAD",
    ]

    /// Commands that never write, for read-only tokens (Redis' own `readonly` flag).
    static let readOnly: Set<String> = [
        "GET", "MGET", "GETRANGE", "SUBSTR", "STRLEN", "EXISTS", "TYPE", "TTL", "PTTL", "EXPIRETIME",
        "PEXPIRETIME", "KEYS", "SCAN", "RANDOMKEY", "DBSIZE", "DUMP", "OBJECT", "TOUCH", "LCS", "GETBIT",
        "BITCOUNT", "BITPOS", "BITFIELD_RO", "HGET", "HMGET", "HGETALL", "HKEYS", "HVALS", "HLEN", "HEXISTS",
        "HSTRLEN", "HSCAN", "HRANDFIELD", "LRANGE", "LINDEX", "LLEN", "LPOS", "SMEMBERS", "SISMEMBER",
        "SMISMEMBER", "SCARD", "SRANDMEMBER", "SSCAN", "SINTER", "SINTERCARD", "SUNION", "SDIFF", "ZRANGE",
        "ZRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGE", "ZREVRANGEBYSCORE", "ZREVRANGEBYLEX", "ZSCORE", "ZMSCORE",
        "ZRANK", "ZREVRANK", "ZCARD", "ZCOUNT", "ZLEXCOUNT", "ZSCAN", "ZRANDMEMBER", "ZINTER", "ZUNION",
        "ZDIFF", "ZINTERCARD", "GEOPOS", "GEODIST", "GEOHASH", "GEORADIUS_RO", "GEORADIUSBYMEMBER_RO",
        "GEOSEARCH", "PFCOUNT", "XRANGE", "XREVRANGE", "XLEN", "XREAD", "XINFO", "XPENDING", "PING", "ECHO",
        "TIME", "EVAL_RO", "EVALSHA_RO", "FCALL_RO", "SORT_RO", "JSON.GET", "JSON.MGET", "JSON.TYPE",
        "JSON.STRLEN", "JSON.OBJKEYS", "JSON.OBJLEN", "JSON.ARRLEN", "JSON.ARRINDEX", "COMMAND", "INFO",
        "LOLWUT", "ROLE", "SCRIPT EXISTS", "CLIENT ID", "CLIENT INFO", "CLIENT GETNAME",
    ]

    /// Where a blocking command keeps its timeout.
    enum BlockingTimeout {
        /// The last argument, in seconds (BLPOP, BRPOP, BLMOVE, BZPOPMIN, ...).
        case lastArgumentSeconds
        /// The first argument after the name, in seconds (BLMPOP, BZMPOP).
        case firstArgumentSeconds
        /// The last argument, in milliseconds (WAIT, WAITAOF).
        case lastArgumentMilliseconds
        /// The argument after `BLOCK`, in milliseconds, when present (XREAD, XREADGROUP).
        case blockOptionMilliseconds
    }

    /// Blocking commands and where their timeout is.
    static let blocking: [String: BlockingTimeout] = [
        "BLPOP": .lastArgumentSeconds, "BRPOP": .lastArgumentSeconds, "BRPOPLPUSH": .lastArgumentSeconds,
        "BLMOVE": .lastArgumentSeconds, "BZPOPMIN": .lastArgumentSeconds, "BZPOPMAX": .lastArgumentSeconds,
        "BLMPOP": .firstArgumentSeconds, "BZMPOP": .firstArgumentSeconds, "WAIT": .lastArgumentMilliseconds,
        "WAITAOF": .lastArgumentMilliseconds, "XREAD": .blockOptionMilliseconds,
        "XREADGROUP": .blockOptionMilliseconds,
    ]

    /// The command's name upper-cased, with the subcommand for container commands (`SCRIPT LOAD`).
    static func qualifiedName(_ arguments: [[UInt8]]) -> String {
        qualifiedName(arguments, name: ASCIICase.uppercased(arguments[0]))
    }

    /// `qualifiedName` when the upper-cased `name` is at hand already.
    static func qualifiedName(_ arguments: [[UInt8]], name: String) -> String {
        if arguments.count > 1, containers.contains(name) {
            return name + " " + ASCIICase.uppercased(arguments[1])
        }
        return name
    }

    /// Commands whose first argument is a subcommand that matters to the policy.
    private static let containers: Set<String> = ["SCRIPT", "FUNCTION", "CLIENT", "OBJECT", "XINFO", "COMMAND", "CONFIG", "MEMORY"]
}
