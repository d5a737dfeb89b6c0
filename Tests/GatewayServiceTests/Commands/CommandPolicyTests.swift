import Testing

@testable import GatewayService

@Suite struct CommandPolicyTests {
    func check(_ words: String..., role: CallerRole = .full, policy: CommandPolicy = CommandPolicy()) -> CommandPolicy.Violation? {
        policy.violation(of: words.map { Array($0.utf8) }, role: role)
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
        guard case .denied? = check(name) else { Issue.record("\(name) allowed"); return }
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
            guard case .blocking? = policy.violation(of: words.map { Array($0.utf8) }, role: .full) else {
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
            guard case .readOnly? = CommandPolicy().violation(of: words.map { Array($0.utf8) }, role: .readOnly) else {
                Issue.record("\(words) allowed for a read-only token"); continue
            }
        }
    }

    @Test func unknownCommandsGoToRedis() {
        #expect(check("NOSUCHCOMMAND", "x") == nil)
    }
}
