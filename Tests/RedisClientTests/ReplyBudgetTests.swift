import ConnectionPool
import TestSupport
import Testing

@testable import RedisClient

/// `maxReplyBytes` against a real Redis: what a round trip may read, and when it stops reading.
@Suite struct ReplyBudgetTests {
    func connection(budget: Int) throws -> RedisConnection {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: RedisServer.shared.url)
        options.maxReplyBytes = budget
        return try RedisConnection.connect(options: options)
    }

    /// hiredis keeps a string in its buffer until all of it has arrived: without the check between
    /// reads, an 8 MiB value would be buffered whole before the budget saw it (a 33-byte
    /// `SETRANGE k 536870911 x` makes a 512 MB one).
    @Test func aStringLargerThanTheBudgetFailsBeforeItIsBuffered() throws {
        let key = "budget-string:\(uniqueKey())"
        _ = RedisServer.shared.command(["SETRANGE", key, String(8 << 20), "x"])
        defer { _ = RedisServer.shared.command(["DEL", key]) }
        let connection = try connection(budget: 64 * 1024)
        do {
            _ = try connection.send(RedisCommand("GET", key))
            Issue.record("an 8 MiB string was read with a 64 KiB budget")
        } catch {
            #expect(error.kind == .replyTooLarge)
        }
        #expect(connection.unparsedInputBytes < 256 * 1024, "the reader buffered \(connection.unparsedInputBytes) bytes")
        #expect(!connection.isReusable)
    }

    /// One request's batch shares one budget; independent requests in one round trip do not.
    @Test func allRepliesShareTheBudgetEachReplyHasItsOwn() throws {
        let key = "budget-batch:\(uniqueKey())"
        _ = RedisServer.shared.command(["SET", key, String(repeating: "v", count: 40 * 1024)])
        defer { _ = RedisServer.shared.command(["DEL", key]) }
        let gets = Array(repeating: RedisCommand("GET", key), count: 4)

        let each = try connection(budget: 64 * 1024)
        let replies = try each.pipeline(gets, budget: .eachReply)
        #expect(replies.allSatisfy { $0.bytes?.count == 40 * 1024 })
        #expect(each.isReusable)

        let all = try connection(budget: 64 * 1024)
        do {
            _ = try all.pipeline(gets, budget: .allReplies)
            Issue.record("four 40 KiB replies were read with one 64 KiB budget")
        } catch {
            #expect(error.kind == .replyTooLarge)
        }
        #expect(!all.isReusable)
    }

    /// Independent requests in one round trip (a pipelined sender's batch): an array over the
    /// budget is read to its end without being built, so it fails alone and the connection stays in
    /// step; the replies around it are whole, and the connection is lent again.
    @Test func anArrayOverTheBudgetFailsAloneAndTheConnectionStaysInStep() throws {
        let set = "budget-array:\(uniqueKey())"
        let key = "budget-after:\(uniqueKey())"
        _ = RedisServer.shared.command(["SADD", set, "a"])
        _ = RedisServer.shared.command(["SET", key, "before"])
        defer { _ = RedisServer.shared.command(["DEL", set, key]) }
        let connection = try connection(budget: 64 * 1024)
        let (received, failure) = connection.pipelineKeepingReplies([
            RedisCommand("GET", key), RedisCommand("SRANDMEMBER", set, "-200000"), RedisCommand("SET", key, "after"),
            RedisCommand("GET", key),
        ])
        #expect(failure == nil)
        #expect(received.count == 4)
        #expect((try? received[0].get())?.text == "before")
        if case .failure(let error) = received[1] {
            #expect(error.kind == .replyTooLarge)
        } else {
            Issue.record("200,000 elements were built")
        }
        #expect((try? received[2].get())?.text == "OK")
        #expect((try? received[3].get())?.text == "after")
        #expect(connection.isReusable, "in step: lent again")
        #expect(try connection.send(RedisCommand("PING")).text == "PONG")
    }
}
