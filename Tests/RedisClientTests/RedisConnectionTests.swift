import RedisClient
import TestSupport
import Testing

/// RedisConnection against a real redis-server.
@Suite struct RedisConnectionTests {
    let server = RedisServer.shared

    func connect(socketTimeout: Duration = .seconds(2), url: String? = nil, name: String? = "redis-client-tests")
        throws -> RedisConnection
    {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: url ?? server.url)
        options.socketTimeout = socketTimeout
        options.clientName = name
        return try RedisConnection.connect(options: options)
    }

    @Test func storesAndReadsBinarySafeValues() throws {
        let connection = try connect()
        let key = Array(uniqueKey("bin\u{0}key").utf8)
        let value: [UInt8] = [0, 1, 13, 10, 36, 42, 255, 0]
        let replies = try connection.pipeline([
            RedisCommand(arguments: [Array("SET".utf8), key, value]),
            RedisCommand(arguments: [Array("GET".utf8), key]),
            RedisCommand(arguments: [Array("STRLEN".utf8), key]),
        ])
        #expect(replies == [.status("OK"), .bulk(value), .integer(8)])
    }

    @Test func mapsEveryReplyKind() throws {
        let connection = try connect()
        let list = uniqueKey("list")
        _ = try connection.send(RedisCommand("RPUSH", list, "a", "b"))
        #expect(try connection.send(RedisCommand("LRANGE", list, "0", "-1")) == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
        #expect(try connection.send(RedisCommand("GET", uniqueKey("missing"))) == .null)
        #expect(try connection.send(RedisCommand("PING")) == .status("PONG"))
        #expect(try connection.send(RedisCommand("LLEN", list)) == .integer(2))
    }

    @Test func anErrorReplyLeavesTheConnectionUsable() throws {
        let connection = try connect()
        let list = uniqueKey("list")
        _ = try connection.send(RedisCommand("LPUSH", list, "x"))
        let replies = try connection.pipeline([RedisCommand("GET", list), RedisCommand("PING")])
        #expect(replies[0].errorMessage?.hasPrefix("WRONGTYPE") == true)
        #expect(replies[1] == .status("PONG"))
        #expect(!connection.isBroken && connection.isReusable)
    }

    @Test func aPipelineReturnsRepliesInOrder() throws {
        let connection = try connect()
        let key = uniqueKey("counter")
        let commands = (0..<1000).map { _ in RedisCommand("INCR", key) }
        let replies = try connection.pipeline(commands)
        #expect(replies == (1...1000).map { RedisValue.integer(Int64($0)) })
    }

    @Test func aSlowReplyTimesOutAndBreaksTheConnection() throws {
        let ownServer = RedisServer()  // DEBUG SLEEP stalls the whole server: keep it away from other tests
        let connection = try connect(socketTimeout: .milliseconds(150), url: ownServer.url)
        let clock = ContinuousClock()
        let start = clock.now
        #expect {
            try connection.send(RedisCommand("DEBUG", "SLEEP", "0.5"))
        } throws: { error in
            (error as? RedisError)?.kind == .timeout
        }
        #expect(clock.now - start < .milliseconds(450))
        #expect(connection.isBroken && !connection.isReusable)
        #expect(throws: RedisError(.connectionBroken, "the connection is broken by an earlier error")) {
            try connection.send(RedisCommand("PING"))
        }
    }

    @Test func aRefusedConnectionIsAConnectError() {
        let port = BlockingSocket.freePort()
        #expect {
            try connect(url: "redis://127.0.0.1:\(port)/0")
        } throws: { error in
            (error as? RedisError)?.kind == .connectFailed
        }
    }

    @Test func authenticatesWithAnACLUserAndSelectsTheDatabase() throws {
        let user = "u\(uniqueKey().filter(\.isLetter).prefix(10))"
        #expect(server.command(["ACL", "SETUSER", user, "on", ">pa:ss", "~*", "+@all"]) == "+OK")
        defer { server.command(["ACL", "DELUSER", user]) }
        let connection = try connect(url: "redis://\(user):pa%3Ass@127.0.0.1:\(server.port)/2")
        let key = uniqueKey("db2")
        _ = try connection.send(RedisCommand("SET", key, "v"))
        #expect(try connection.send(RedisCommand("ACL", "WHOAMI")) == .bulk(Array(user.utf8)))
        #expect(server.command(["GET", key]) == nil, "the key lives in db 2, not db 0")
        #expect(try connection.send(RedisCommand("CLIENT", "GETNAME")) == .bulk(Array("redis-client-tests".utf8)))
    }

    @Test func aWrongPasswordIsAHandshakeError() {
        #expect {
            try connect(url: "redis://nobody:wrong@127.0.0.1:\(server.port)/0")
        } throws: { error in
            (error as? RedisError)?.kind == .handshakeFailed
        }
    }
}
