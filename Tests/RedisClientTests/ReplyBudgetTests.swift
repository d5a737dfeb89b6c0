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
    /// `SETRANGE k 536870911 x` makes a 512 MB one). More than 8 times the budget is not worth
    /// reading through: the connection is given up.
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
            RedisCommand("GET", key), RedisCommand("SRANDMEMBER", set, "-2000"), RedisCommand("SET", key, "after"),
            RedisCommand("GET", key),
        ])
        #expect(failure == nil)
        try #require(received.count == 4)
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

    /// A string longer than the budget (but within 8 times it) is read through and thrown away:
    /// the reader never buffers it, the request fails alone, and the connection stays in step,
    /// also when the string sits inside an array.
    @Test func aStringLongerThanTheBudgetIsSkippedAndTheConnectionStaysInStep() throws {
        let big = "budget-long:\(uniqueKey())"
        let small = "budget-small:\(uniqueKey())"
        _ = RedisServer.shared.command(["SETRANGE", big, String(256 * 1024), "x"])
        _ = RedisServer.shared.command(["SET", small, "s"])
        defer { _ = RedisServer.shared.command(["DEL", big, small]) }
        let connection = try connection(budget: 64 * 1024)
        let (received, failure) = connection.pipelineKeepingReplies([
            RedisCommand("GET", small), RedisCommand("GET", big), RedisCommand("MGET", small, big, small), RedisCommand("GET", small),
        ])
        #expect(failure == nil)
        try #require(received.count == 4)
        #expect((try? received[0].get())?.text == "s" && (try? received[3].get())?.text == "s")
        for index in [1, 2] {
            if case .failure(let error) = received[index] {
                #expect(error.kind == .replyTooLarge)
            } else {
                Issue.record("reply \(index) was built")
            }
        }
        #expect(connection.unparsedInputBytes < 64 * 1024)
        #expect(connection.isReusable)
        #expect(try connection.send(RedisCommand("GET", small)).text == "s")
    }

    /// A long string that ends the round trip: once it is read through, the nil in its place is
    /// parsed before any further read (there is nothing more to read: waiting would time out,
    /// holding the connection for a socket timeout and then discarding it).
    @Test func aLoneReplyLongerThanTheBudgetFailsWithoutWaitingForMore() throws {
        let big = "budget-lone:\(uniqueKey())"
        _ = RedisServer.shared.command(["SETRANGE", big, String(256 * 1024), "x"])
        defer { _ = RedisServer.shared.command(["DEL", big]) }
        let connection = try connection(budget: 64 * 1024)
        for command in [RedisCommand("GET", big), RedisCommand("MGET", big)] {
            let (received, failure) = connection.pipelineKeepingReplies([command])
            #expect(failure == nil, "\(String(describing: failure))")
            if case .failure(let error)? = received.first {
                #expect(error.kind == .replyTooLarge)
            } else {
                Issue.record("\(command.name): no replyTooLarge")
            }
            #expect(connection.isReusable)
        }
    }
}
