import RedisClient
import TestSupport
import Testing

/// Key positions from a real server's `COMMAND` reply, for every shape of key specification.
@Suite struct CommandKeySpecsTests {
    static let specs: CommandKeySpecs = {
        var options = RedisConnectionOptions()
        options.url = try! RedisURL(parsing: RedisServer.shared.url)
        let connection = try! RedisConnection.connect(options: options)
        defer { connection.close() }
        return try! CommandKeySpecs(commandReply: try! connection.send(RedisCommand("COMMAND")))
    }()

    func keys(_ arguments: String...) -> CommandKeySpecs.Lookup {
        Self.specs.keyPositions(in: arguments.map { Array($0.utf8) })
    }

    @Test func fixedIndexAndRanges() {
        #expect(keys("GET", "k") == .keys([1]))
        #expect(keys("set", "k", "v", "EX", "10") == .keys([1]))
        #expect(keys("MGET", "a", "b", "c") == .keys([1, 2, 3]))
        #expect(keys("MSET", "a", "1", "b", "2") == .keys([1, 3]))
        #expect(keys("DEL", "a", "b") == .keys([1, 2]))
        #expect(keys("RENAME", "a", "b") == .keys([1, 2]))
        #expect(keys("BLPOP", "a", "b", "0") == .keys([1, 2]))
        #expect(keys("SMOVE", "a", "b", "m") == .keys([1, 2]))
    }

    @Test func keyCountsAndKeywords() {
        #expect(keys("EVAL", "return 1", "2", "a", "b", "arg") == .keys([3, 4]))
        #expect(keys("EVALSHA", "abc", "0", "arg") == .keys([]))
        #expect(keys("ZUNIONSTORE", "dest", "2", "a", "b", "WEIGHTS", "1", "2") == .keys([1, 3, 4]))
        #expect(keys("XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0") == .keys([4, 5]))
        #expect(keys("LMPOP", "2", "a", "b", "LEFT") == .keys([2, 3]))
    }

    @Test func subcommandsAndKeylessCommands() {
        #expect(keys("OBJECT", "ENCODING", "k") == .keys([2]))
        #expect(keys("XINFO", "STREAM", "s") == .keys([2]))
        #expect(keys("PING") == .keys([]))
        #expect(keys("PUBLISH", "channel", "m") == .keys([]))
        #expect(keys("DBSIZE") == .keys([]))
        #expect(keys("NOSUCHCOMMAND", "x") == .unknownCommand)
    }
}
