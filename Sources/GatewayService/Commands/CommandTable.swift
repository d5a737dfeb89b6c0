import CoreUtilities

/// What the gateway knows about Redis commands: which only read, which change the state of a
/// connection (and so can never run on a shared pooled one), which are administrative, and where
/// blocking commands keep their timeout, and which subcommands of container commands may run.
/// Which names exist at all is the server's to say (`ServerCommandNames`); Redis stays the
/// authority on the rest of the syntax.
enum CommandTable {
    /// Commands that change the state of the connection they run on. A pooled connection is
    /// shared, so these are always refused (transactions go through `/multi-exec`).
    static let connectionState: Set<String> = [
        "SELECT", "AUTH", "HELLO", "RESET", "QUIT", "WATCH", "UNWATCH", "MULTI", "EXEC", "DISCARD",
        "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",
        "READONLY", "READWRITE", "ASKING", "SYNC", "PSYNC", "REPLCONF",
    ]

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

    /// The subcommands the gateway lets through, per container command: an allow-list, so a
    /// subcommand a newer Redis adds is refused until it is judged here. A container missing from
    /// this table (one a newer Redis or a module adds) is refused whole. What the deny list refuses
    /// (`SCRIPT KILL`, all of `CONFIG`, …) stays refused unless a deployment allows it; what changes
    /// a connection (`CLIENT SETNAME`, `SCRIPT DEBUG`) is in no list.
    static let subcommands: [String: Set<String>] = [
        "CLIENT": ["ID", "INFO", "GETNAME", "HELP"],
        "SCRIPT": ["LOAD", "EXISTS", "FLUSH", "KILL", "HELP"],
        "FUNCTION": ["LOAD", "LIST", "STATS", "DUMP", "DELETE", "FLUSH", "KILL", "RESTORE", "HELP"],
        "CONFIG": ["GET", "SET", "RESETSTAT", "REWRITE", "HELP"],
        "OBJECT": ["ENCODING", "FREQ", "IDLETIME", "REFCOUNT", "HELP"],
        "XINFO": ["CONSUMERS", "GROUPS", "STREAM", "HELP"],
        "XGROUP": ["CREATE", "CREATECONSUMER", "DELCONSUMER", "DESTROY", "SETID", "HELP"],
        "COMMAND": ["COUNT", "DOCS", "GETKEYS", "GETKEYSANDFLAGS", "INFO", "LIST", "HELP"],
        "MEMORY": ["USAGE", "STATS", "DOCTOR", "MALLOC-STATS", "PURGE", "HELP"],
        "PUBSUB": ["CHANNELS", "NUMPAT", "NUMSUB", "SHARDCHANNELS", "SHARDNUMSUB", "HELP"],
        "CLUSTER": [
            "INFO", "NODES", "SLOTS", "SHARDS", "KEYSLOT", "COUNTKEYSINSLOT", "GETKEYSINSLOT", "MYID", "MYSHARDID", "LINKS",
            "REPLICAS", "SLAVES", "COUNT-FAILURE-REPORTS", "HELP",
        ],
        "ACL": ["CAT", "DELUSER", "DRYRUN", "GENPASS", "GETUSER", "LIST", "LOAD", "LOG", "SAVE", "SETUSER", "USERS", "WHOAMI", "HELP"],
        "LATENCY": ["DOCTOR", "GRAPH", "HISTOGRAM", "HISTORY", "LATEST", "RESET", "HELP"],
        "SLOWLOG": ["GET", "LEN", "RESET", "HELP"],
        "MODULE": ["LIST", "LOAD", "LOADEX", "UNLOAD", "HELP"],
    ]

    /// Containers that also run without a subcommand (`COMMAND` alone lists every command).
    static let runsWithoutSubcommand: Set<String> = ["COMMAND"]

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

    /// Commands whose first argument is a subcommand.
    static let containers = Set(subcommands.keys)
}
