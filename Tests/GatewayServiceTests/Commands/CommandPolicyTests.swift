import Testing

@testable import GatewayService

@Suite struct CommandPolicyTests {
    /// Names as a Redis 7 server lists them (`COMMAND`), enough for these tests; the tests against a
    /// real server are in `CommandNameDifferentialTests`.
    static let names = ServerCommandNames(
        names: CommandTable.readOnly.map { String($0.split(separator: " ")[0]) } + CommandTable.connectionState
            + CommandTable.administrative.map { String($0.split(separator: " ")[0]) } + CommandTable.blocking.keys
            + ["SET", "DEL", "INCR", "EVAL", "CLIENT", "SCRIPT", "FUNCTION", "XGROUP"],
        subcommands: [
            "CLIENT": ["ID", "INFO", "GETNAME", "SETNAME", "KILL", "REPLY", "PAUSE", "TRACKING", "HELP"],
            "SCRIPT": ["LOAD", "EXISTS", "FLUSH", "KILL", "DEBUG", "HELP"],
            "CONFIG": ["GET", "SET", "RESETSTAT", "REWRITE", "HELP"],
            "MODULE": ["LIST", "LOAD", "HELP"], "ACL": ["WHOAMI", "SETUSER", "HELP"],
        ])

    func check(_ words: String..., role: CallerRole = .full, policy: CommandPolicy = CommandPolicy()) -> CommandPolicy.Violation? {
        policy.violation(of: words.map { Array($0.utf8) }, role: role, names: Self.names)
    }

    func policy(_ policy: CommandPolicy, _ words: [String]) -> CommandPolicy.Violation? {
        policy.violation(of: words.map { Array($0.utf8) }, role: .full, names: Self.names)
    }

    func check(bytes: [[UInt8]], policy: CommandPolicy = CommandPolicy()) -> CommandPolicy.Violation? {
        policy.violation(of: bytes, role: .full, names: Self.names)
    }

    @Test(arguments: [
        "SELECT", "auth", "HELLO", "RESET", "WATCH", "UNWATCH", "MULTI", "EXEC", "DISCARD", "SUBSCRIBE", "PSUBSCRIBE", "MONITOR",
    ])
    func connectionStateCommandsAreAlwaysRefused(_ name: String) {
        guard case .connectionState? = check(name, "x") else { Issue.record("\(name) was not refused"); return }
        var open = CommandPolicy()
        open.denied = []
        open.allowList = [name.uppercased()]
        guard case .connectionState? = check(name, "x", policy: open) else { Issue.record("allow-list let \(name) through"); return }
    }

    @Test func clientSubcommandsThatAlterConnectionsAreRefused() {
        #expect(check("CLIENT", "ID") == nil)
        #expect(check("client", "getname") == nil)
        guard case .connectionState? = check("CLIENT", "SETNAME", "x") else { Issue.record("CLIENT SETNAME allowed"); return }
        guard case .connectionState? = check("CLIENT", "KILL", "TYPE", "normal") else { Issue.record("CLIENT KILL allowed"); return }
    }

    @Test(arguments: ["FLUSHALL", "FLUSHDB", "CONFIG", "SHUTDOWN", "DEBUG", "SAVE", "BGSAVE", "REPLICAOF", "SLAVEOF", "MODULE", "ACL"])
    func administrativeCommandsAreDeniedByDefault(_ name: String) {
        // Containers are judged with a subcommand their allow-list has.
        let words = ["CONFIG": ["CONFIG", "GET", "x"], "MODULE": ["MODULE", "LIST"], "ACL": ["ACL", "WHOAMI"]][name] ?? [name]
        guard case .denied? = policy(CommandPolicy(), words) else { Issue.record("\(name) allowed"); return }
    }

    @Test func aDeploymentCanAllowADeniedCommandOrUseAnAllowList() {
        var testing = CommandPolicy()
        testing.denied.remove("FLUSHDB")
        #expect(check("FLUSHDB", policy: testing) == nil)
        var strict = CommandPolicy()
        strict.allowList = ["GET", "SET"]
        #expect(check("get", "k", policy: strict) == nil)
        guard case .denied? = check("DEL", "k", policy: strict) else { Issue.record("DEL allowed by allow-list"); return }
    }

    @Test func blockingCommandsNeedATimeoutBelowTheSocketTimeout() {
        var policy = CommandPolicy()
        policy.blockingLimit = .seconds(2)
        #expect(check("BLPOP", "l", "1.5", policy: policy) == nil)
        for words in [
            ["BLPOP", "l", "0"], ["BRPOP", "a", "b", "2"], ["BLMPOP", "0", "1", "l", "LEFT"], ["WAIT", "1", "0"],
            ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">"],
        ] {
            guard case .blocking? = policy.violation(of: words.map { Array($0.utf8) }, role: .full, names: Self.names) else {
                Issue.record("\(words) allowed"); continue
            }
        }
        #expect(check("XREAD", "STREAMS", "s", "0", policy: policy) == nil, "XREAD without BLOCK does not block")
        #expect(check("WAIT", "1", "500", policy: policy) == nil)
    }

    @Test func readOnlyTokensRunReadCommandsOnly() {
        #expect(check("GET", "k", role: .readOnly) == nil)
        #expect(check("HGETALL", "h", role: .readOnly) == nil)
        #expect(check("SCRIPT", "EXISTS", "abc", role: .readOnly) == nil)
        for words in [["SET", "k", "v"], ["INCR", "k"], ["EVAL", "return 1", "0"], ["SCRIPT", "LOAD", "return 1"], ["DEL", "k"]] {
            guard case .readOnly? = CommandPolicy().violation(of: words.map { Array($0.utf8) }, role: .readOnly, names: Self.names) else {
                Issue.record("\(words) allowed for a read-only token"); continue
            }
        }
    }

    @Test func namesTheServerDoesNotListAreNeverSent() {
        guard case .unknownCommand? = check("NOSUCHCOMMAND", "x") else { Issue.record("an unknown name passed"); return }
        #expect(check("get", "k") == nil, "ASCII case does not matter")
    }

    /// Redis 7.0 compares names with strcasecmp, which stops at NUL: `SELECT\0…` could run as SELECT.
    @Test(arguments: ["SELECT", "MULTI", "MONITOR", "FLUSHALL", "GET"])
    func aNameWithANulOrAnyOddByteIsRefusedWhateverItStartsWith(_ name: String) {
        for odd: [UInt8] in [[0], [0, 0x61, 0x62], [0x20], [0x09], [0x0D, 0x0A], [0x7C, 0x78], [0xC3, 0xA9], [0x7F]] {
            guard case .unknownCommand? = check(bytes: [Array(name.utf8) + odd, Array("x".utf8)]) else {
                Issue.record("\(name) + \(odd) was not refused as a name"); continue
            }
        }
        guard case .unknownCommand? = check(bytes: [[0] + Array(name.utf8)]) else { Issue.record("leading NUL"); return }
        guard case .unknownCommand? = check(bytes: [[]]) else { Issue.record("empty name"); return }
    }

    @Test func subcommandsOfContainersAreAllowListed() {
        #expect(check("SCRIPT", "LOAD", "return 1") == nil)
        #expect(check("script", "exists", "abc") == nil)
        guard case .connectionState? = check("SCRIPT", "DEBUG", "YES") else { Issue.record("SCRIPT DEBUG allowed"); return }
        guard case .connectionState? = check("SCRIPT", "debug", "sync") else { Issue.record("script debug allowed"); return }
        guard case .unknownCommand? = check(bytes: [Array("SCRIPT".utf8), Array("LOAD\u{0}x".utf8), Array("return 1".utf8)]) else {
            Issue.record("a NUL in a subcommand passed"); return
        }
        guard case .unknownCommand? = check("SCRIPT") else { Issue.record("a container without its subcommand passed"); return }
        guard case .unknownCommand? = check("XGROUP", "NEWTHING") else { Issue.record("an unknown subcommand passed"); return }
        // CONFIG GET is allow-listed but CONFIG stays on the deny list.
        guard case .denied? = check("CONFIG", "GET", "maxmemory") else { Issue.record("CONFIG GET allowed by default"); return }
        var open = CommandPolicy()
        open.denied = []
        #expect(check("CONFIG", "GET", "maxmemory", policy: open) == nil)
        guard case .connectionState? = check("CLIENT", "TRACKING", "on", policy: open) else { Issue.record("CLIENT TRACKING"); return }
    }

    @Test func everyBlockOptionOfXreadIsChecked() {
        var policy = CommandPolicy()
        policy.blockingLimit = .seconds(1)
        guard case .blocking? = check("XREAD", "BLOCK", "100", "BLOCK", "0", "STREAMS", "s", "$", policy: policy) else {
            Issue.record("a second BLOCK 0 passed"); return
        }
        // After STREAMS, "BLOCK" is a key name.
        #expect(check("XREAD", "BLOCK", "100", "STREAMS", "BLOCK", "0", policy: policy) == nil)
        let review = policy.review(
            ["XREAD", "BLOCK", "300", "BLOCK", "200", "STREAMS", "s", "$"].map { Array($0.utf8) }, role: .full, names: Self.names)
        #expect(review.blockingSeconds == 0.3)
    }
}
