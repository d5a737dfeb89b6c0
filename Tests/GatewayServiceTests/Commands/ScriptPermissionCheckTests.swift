import ConnectionPool
import Foundation
import RedisClient
import TestSupport
import Testing

@testable import GatewayService

/// What the gateway's own Redis user could run from a script, asked of a real Redis 7 with users
/// made for each test: the check finds the refused commands a permissive user could call, the
/// `ACL SETUSER` line it logs closes them, and README's restricted user has none open.
@Suite struct ScriptPermissionCheckTests {
    let redis = RedisServer.shared
    let check = ScriptPermissionCheck(policy: CommandPolicy())

    /// A user made with `rules`, and an executor that connects as it.
    func executor(rules: [String]) throws -> (user: String, executor: RedisExecutor) {
        let user = "check-\(UUID().uuidString.prefix(12))"
        #expect(redis.command(["ACL", "SETUSER", user, "on", ">pw", "~*", "&*"] + rules) == "+OK")
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: "redis://\(user):pw@127.0.0.1:\(redis.port)/0")
        var configuration = PoolConfiguration()
        configuration.maxConnections = 1
        configuration.minIdle = 0
        let pool = RedisConnectionPool(configuration: configuration, factory: RedisConnectionFactory(options: options))
        return (user, RedisExecutor(pool: pool, retry: RetryPolicy()))
    }

    func names(_ executor: RedisExecutor) throws -> ServerCommandNames {
        try ServerCommandCatalog().names(readingWith: executor)
    }

    /// README's user, as the check should find it: nothing open.
    static let readmeRules = [
        "+@all", "-@admin", "-@dangerous", "-select", "-watch", "-unwatch", "-monitor", "-subscribe", "-psubscribe", "-ssubscribe",
        "-reset", "-hello", "-auth", "-client", "+client|id", "+client|info", "+client|getname", "+client|setname", "-cluster", "-memory",
    ]

    @Test func aPermissiveUserIsFoundOpenAndTheLoggedLineClosesIt() throws {
        let (user, executor) = try executor(rules: ["+@all"])
        defer { redis.command(["ACL", "DELUSER", user]) }
        let names = try names(executor)
        guard case .open(let specs) = check.run(names, on: executor) else {
            Issue.record("a +@all user was not found open"); return
        }
        for refused in ["FLUSHALL", "FLUSHDB", "SWAPDB", "MIGRATE", "SELECT", "CLUSTER|MEET", "SLOWLOG|RESET", "MEMORY|PURGE"] {
            #expect(specs.contains(refused), "\(refused) not found in \(specs)")
        }
        // Redis never lets a script call these, whatever the ACL says: no noise about them.
        // (`CONFIG SET`, `ACL SETUSER`, `SCRIPT KILL`, `FUNCTION FLUSH` are `noscript` too.)
        for never in [
            "MULTI", "EXEC", "SUBSCRIBE", "MONITOR", "CLIENT|KILL", "CONFIG|SET", "ACL|SETUSER", "SCRIPT|KILL", "FUNCTION|FLUSH", "GET",
            "CONFIG", "CLUSTER|HELP",
        ] {
            #expect(!specs.contains(never), "\(never) reported")
        }
        // The warning's fix, applied as an operator would paste it, closes every one.
        let line = ScriptPermissionCheck.setUserLine(user: user, specs)
        let arguments = line.split(separator: " ").map { $0.replacingOccurrences(of: "'", with: "") }
        #expect(redis.command(arguments) == "+OK", "\(line)")
        #expect(check.run(names, on: executor) == .closed)
    }

    @Test func theReadmeUserHasNothingOpenAndEvalCallingFlushallFailsThroughTheGateway() throws {
        let (user, executor) = try executor(rules: Self.readmeRules)
        defer { redis.command(["ACL", "DELUSER", user]) }
        let finding = check.run(try names(executor), on: executor)
        #expect(finding == .closed, "\(finding)")

        let key = uniqueKey("survives")
        redis.command(["SET", key, "v"])
        let harness = try GatewayHarness(redisURL: "redis://\(user):pw@127.0.0.1:\(redis.port)/0") { $0.auth.tokens = ["t"] }
        let auth = [("Authorization", "Bearer t")]
        let flush = harness.request("POST", "/", text: #"["EVAL","return redis.call('FLUSHALL')","0"]"#, headers: auth)
        #expect(flush.status >= 400 && flush.text.contains("can't run this command"), "\(flush.text)")
        #expect(redis.command(["GET", key]) == "v")
        // What callers need still works as this user: commands, the cache, transactions, readiness.
        #expect(harness.request("POST", "/", text: #"["GET","\#(key)"]"#, headers: auth).text == #"{"result":"v"}"#)
        #expect(harness.request("GET", "/cache/\(key)", headers: auth).status == 200)
        #expect(harness.request("POST", "/multi-exec", text: #"[["INCR","\#(key)-n"],["INCR","\#(key)-n"]]"#, headers: auth).status == 200)
        #expect(harness.request("GET", "/readyz").status == 200)
    }

    @Test func aUserThatCannotRunScriptsOpensNothing() throws {
        let (user, executor) = try executor(rules: ["+@all", "-@scripting"])
        defer { redis.command(["ACL", "DELUSER", user]) }
        guard case .noScripts = check.run(try names(executor), on: executor) else {
            Issue.record("a user without scripts was not recognised"); return
        }
    }

    @Test func theLineQuotesSubcommandRules() {
        #expect(ScriptPermissionCheck.setUserLine(user: "gw", ["FLUSHALL", "CONFIG|SET"]) == "ACL SETUSER gw -flushall '-config|set'")
    }
}
