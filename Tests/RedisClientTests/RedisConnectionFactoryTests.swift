import ConnectionPool
import RedisClient
import TestSupport
import Testing

/// Dialling through Sentinel: a node that is not the master is refused by its ROLE, never lent.
@Suite struct RedisConnectionFactoryTests {
    @Test func aNodeThatAnswersSlaveIsClosedAndTheMasterIsAccepted() throws {
        let master = RedisServer()
        let replica = RedisServer(extraArguments: ["--replicaof", "127.0.0.1", String(master.port)])
        // No Sentinel answers on this port: the locator is told the address directly, as a
        // `+selected-slave` message would.
        let deadSentinel = BlockingSocket.freePort()
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: "redis+sentinel://127.0.0.1:\(deadSentinel)/mymaster/0")
        options.clientName = "factory-role-check"
        let factory = RedisConnectionFactory(options: options)
        let locator = try #require(factory.locator)

        locator.failoverStarted(promoting: .init(host: "127.0.0.1", port: replica.port))
        #expect {
            try factory.makeConnection()
        } throws: { error in
            (error as? RedisError)?.message.contains("is not the master (ROLE: slave)") == true
        }
        #expect(replica.clientCount(named: "factory-role-check") == 0, "the replica's connection was closed")

        locator.update(.init(host: "127.0.0.1", port: master.port))
        let connection = try factory.makeConnection()
        defer { connection.close() }
        #expect(try connection.send(RedisCommand("ROLE")).isMasterRole)
        #expect(master.clientCount(named: "factory-role-check") == 1)
    }

    @Test func withoutAnyReachableSentinelTheDialFailsNamingEachOne() throws {
        let ports = [BlockingSocket.freePort(), BlockingSocket.freePort()]
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: "redis+sentinel://127.0.0.1:\(ports[0]),127.0.0.1:\(ports[1])/mymaster")
        let factory = RedisConnectionFactory(options: options)
        #expect {
            try factory.makeConnection()
        } throws: { error in
            let message = (error as? RedisError)?.message ?? ""
            return message.contains("no Sentinel named a master for 'mymaster'") && ports.allSatisfy { message.contains(":\($0)") }
        }
    }

    @Test func aDialThatConnectsButGetsNoAnswerIsAStallAndARefusedOneIsNot() throws {
        let redis = RedisServer()
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: "redis://127.0.0.1:\(redis.port)/0")
        options.clientName = "stall-classification"
        options.socketTimeout = .milliseconds(100)
        let factory = RedisConnectionFactory(options: options)
        #expect(redis.command(["CLIENT", "PAUSE", "500", "ALL"]) == "+OK")
        #expect {
            try factory.makeConnection()
        } throws: { error in
            factory.classify(error) == .stalled
        }
        options.url = try RedisURL(parsing: "redis://127.0.0.1:\(BlockingSocket.freePort())/0")
        let refused = RedisConnectionFactory(options: options)
        #expect {
            try refused.makeConnection()
        } throws: { error in
            refused.classify(error) == .unreachable
        }
    }
}

extension RedisValue {
    fileprivate var isMasterRole: Bool {
        if case .array(let parts) = self { return parts.first?.text == "master" }
        return false
    }
}
