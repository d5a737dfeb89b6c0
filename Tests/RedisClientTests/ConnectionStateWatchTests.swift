import ConnectionPool
import RedisClient
import TestSupport
import Testing

/// The pool's second line of defence, against a real Redis: whatever a caller manages to run on a
/// pooled connection, a connection whose state may have changed is closed, never lent again.
@Suite struct ConnectionStateWatchTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func pool(name: String) throws -> RedisConnectionPool {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: RedisServer.shared.url)
        options.clientName = name
        var configuration = PoolConfiguration()
        configuration.maxConnections = 1
        configuration.minIdle = 0
        return RedisConnectionPool(configuration: configuration, factory: RedisConnectionFactory(options: options))
    }

    /// Redis 7.0 looks names up with strcasecmp, which stops at NUL: `NAME\0suffix` runs as NAME when
    /// the suffix hashes to NAME's bucket. Finds such a suffix on the running server, as an attacker
    /// would.
    func nulSuffix(for name: String, on pool: RedisConnectionPool) throws -> [UInt8]? {
        for batch in 0..<20 {
            // Without arguments a hit answers a wrong-arity error and runs nothing.
            let candidates = (0..<200).map { bytes(name) + [0] + bytes(String(batch * 200 + $0)) }
            let replies = try pool.withConnection { connection throws(RedisError) in
                try connection.pipeline(candidates.map { RedisCommand(arguments: [$0]) })
            }
            for (candidate, reply) in zip(candidates, replies) {
                if let message = reply.errorMessage, message.hasPrefix("ERR unknown command") { continue }
                return candidate
            }
        }
        return nil
    }

    @Test func aNulSuffixedSelectRunsOnRedisAndTheConnectionIsNeverLentAgain() throws {
        let pool = try pool(name: "watch-select")
        defer { pool.shutDown() }
        let select = try #require(try nulSuffix(for: "SELECT", on: pool), "no NUL suffix reached SELECT (not Redis 7.0's lookup?)")
        let before = pool.statistics.closed[.stateChanged, default: 0]
        let reply = try pool.withConnection { connection throws(RedisError) in
            try connection.send(RedisCommand(arguments: [select, bytes("5")]))
        }
        #expect(reply == .status("OK"), "Redis ran it as SELECT 5")
        #expect(pool.statistics.closed[.stateChanged, default: 0] == before + 1)
        let info = try pool.withConnection { connection throws(RedisError) in try connection.send(RedisCommand("CLIENT", "INFO")) }
        #expect(info.text?.contains(" db=0 ") == true, "the next borrower is on database 0: \(info.text ?? "")")
    }

    @Test func anOpenTransactionMonitorOrDebuggerIsNeverLentAgain() throws {
        let pool = try pool(name: "watch-multi")
        defer { pool.shutDown() }
        let attacks: [[[UInt8]]] = [
            [bytes("MULTI")], [bytes("multi"), bytes("extra")], [bytes("MONITOR")], [bytes("SCRIPT"), bytes("DEBUG"), bytes("YES")],
            [bytes("CLIENT"), bytes("REPLY"), bytes("OFF")], [bytes("CLIENT"), bytes("SETNAME"), bytes("evil")],
            [bytes("READONLY")], [bytes("SUBSCRIBE"), bytes("ch")], [bytes("RESET")],
        ]
        for attack in attacks {
            let before = pool.statistics.closed
            _ = try? pool.withConnection { connection throws(RedisError) in try connection.send(RedisCommand(arguments: attack)) }
            let after = pool.statistics.closed
            let closed = ConnectionCloseReason.allCases.reduce(0) { $0 + after[$1, default: 0] - before[$1, default: 0] }
            #expect(closed == 1, "\(attack.map { String(decoding: $0, as: UTF8.self) }) left a connection in the pool")
            let key = "watch:\(attack.count)"
            let replies = try pool.withConnection { connection throws(RedisError) in
                try connection.pipeline([RedisCommand("SET", key, "v"), RedisCommand("GET", key)])
            }
            #expect(replies == [.status("OK"), .bulk(bytes("v"))], "the next borrower got \(replies)")
        }
    }

    @Test func aQueuedReplyOutsideATransactionMarksTheConnection() {
        var watch = ConnectionStateWatch()
        watch.ran([bytes("GET"), bytes("k")], reply: .status("QUEUED"))
        #expect(watch.changed)
        var monitor = ConnectionStateWatch()
        monitor.ran([bytes("GET"), bytes("k")], reply: .status(#"1700000000.123456 [0 127.0.0.1:5000] "GET" "k""#))
        #expect(monitor.changed)
        var transaction = ConnectionStateWatch()
        transaction.ran([bytes("MULTI")], reply: .status("OK"))
        transaction.ran([bytes("SET"), bytes("k"), bytes("v")], reply: .status("QUEUED"))
        transaction.ran([bytes("EXEC")], reply: .array([.status("OK")]))
        transaction.roundTripFinished()
        #expect(!transaction.changed, "the gateway's own MULTI … EXEC leaves the connection clean")
        var open = ConnectionStateWatch()
        open.ran([bytes("MULTI")], reply: .status("OK"))
        open.roundTripFinished()
        #expect(open.changed, "a MULTI without EXEC")
        var plain = ConnectionStateWatch()
        plain.ran([bytes("GET"), bytes("k")], reply: .status("OK"))
        plain.roundTripFinished()
        #expect(!plain.changed)
    }

    @Test func aReplyOverTheBudgetFailsBeforeItIsBuiltAndBreaksTheConnection() throws {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: RedisServer.shared.url)
        options.maxReplyBytes = 64 * 1024
        let connection = try RedisConnection.connect(options: options)
        let key = "budget:\(uniqueKey())"
        _ = try connection.send(RedisCommand("SADD", key, "a"))
        guard case .array(let some) = try connection.send(RedisCommand("SRANDMEMBER", key, "-100")) else {
            Issue.record("SRANDMEMBER did not answer an array"); return
        }
        #expect(some.count == 100)
        do {
            _ = try connection.send(RedisCommand("SRANDMEMBER", key, "-3000000"))
            Issue.record("a 3,000,000-element reply was read whole")
        } catch {
            #expect(error.kind == .replyTooLarge)
        }
        #expect(!connection.isReusable)
        _ = RedisServer.shared.command(["DEL", key])
    }
}
