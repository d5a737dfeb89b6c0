import ConnectionPool
import Dispatch
import RedisClient
import Synchronization
import TestSupport
import Testing

/// The shared pool with real Redis connections: limits under contention, timeouts, restarts.
@Suite struct RedisConnectionPoolingTests {
    func pool(server: RedisServer, max: Int, wait: Duration = .seconds(5), healthCheck: Duration = .seconds(30), name: String)
        throws -> RedisConnectionPool
    {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: server.url)
        options.clientName = name
        var configuration = PoolConfiguration()
        configuration.maxConnections = max
        configuration.waitTimeout = wait
        configuration.healthCheckInterval = healthCheck
        configuration.minIdle = 0  // these tests count connections: none opened in the background
        return RedisConnectionPool(configuration: configuration, factory: RedisConnectionFactory(options: options))
    }

    @Test(.timeLimit(.minutes(1)))
    func sixtyFourThreadsNeverOpenMoreThanFourConnections() throws {
        let server = RedisServer.shared
        let name = "pool4-\(uniqueKey().filter(\.isLetter).prefix(8))"
        let pool = try pool(server: server, max: 4, name: name)
        let key = uniqueKey("counter")
        let failures = Atomic<Int>(0)
        let running = Atomic<Bool>(true)
        let maxSeen = Atomic<Int>(0)
        let sampler = TestThread {
            while running.load(ordering: .relaxed) {
                let count = server.clientCount(named: name)
                maxSeen.max(count, ordering: .relaxed)
            }
        }
        sampler.start()
        let workers = (0..<64).map { _ in
            TestThread {
                for _ in 0..<200 {
                    do {
                        let reply = try pool.withConnection { connection throws(RedisError) in
                            try connection.send(RedisCommand("INCR", key))
                        }
                        if reply.integer == nil { failures.add(1, ordering: .relaxed) }
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        workers.forEach { $0.start() }
        workers.forEach { $0.join() }
        running.store(false, ordering: .relaxed)
        sampler.join()
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(server.command(["GET", key]) == "12800")
        #expect(maxSeen.load(ordering: .relaxed) <= 4)
        #expect(server.clientCount(named: name) <= 4)
        let stats = pool.statistics
        #expect(stats.inUse == 0 && stats.waiting == 0 && stats.open <= 4 && stats.borrows == 12800)
        pool.shutDown()
        #expect(server.clientCount(named: name) == 0)
    }

    @Test func theWaitTimeoutIsHonouredWithin100Milliseconds() throws {
        let pool = try pool(server: RedisServer.shared, max: 1, wait: .milliseconds(250), name: "timeout-test")
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = TestThread {
            _ = try? pool.withConnection { (_: RedisConnection) in
                holding.signal()
                release.wait()
            }
        }
        holder.start()
        holding.wait()
        let clock = ContinuousClock()
        let start = clock.now
        #expect {
            try pool.withConnection { _ in }
        } throws: { error in
            guard case .pool(.timeout(_, let stats)) = error as? BorrowError<Never> else { return false }
            return stats.inUse == 1
        }
        let waited = clock.now - start
        release.signal()
        holder.join()
        // Within the one deadline (twice it would be a second wait), with room for a busy machine.
        #expect(waited >= .milliseconds(250) && waited < .milliseconds(450), "waited \(waited)")
    }

    @Test func aRestartIsHealedByTheHealthCheckBeforeTheNextBorrow() throws {
        let server = RedisServer()
        let pool = try pool(server: server, max: 2, healthCheck: .zero, name: "restart-hc")
        _ = try pool.withConnection { connection throws(RedisError) in try connection.send(RedisCommand("PING")) }
        server.restart()
        let reply = try pool.withConnection { connection throws(RedisError) in try connection.send(RedisCommand("PING")) }
        #expect(reply == .status("PONG"))
        #expect(pool.statistics.healthCheckFailures == 1)
        #expect(pool.statistics.open == 1)
    }

    @Test func aStaleConnectionIsDiscardedAndTheNextRequestSucceeds() throws {
        let server = RedisServer()
        let pool = try pool(server: server, max: 2, healthCheck: .seconds(3600), name: "restart-stale")
        _ = try pool.withConnection { connection throws(RedisError) in try connection.send(RedisCommand("PING")) }
        server.restart()
        #expect {
            try pool.withConnection { connection throws(RedisError) in try connection.send(RedisCommand("PING")) }
        } throws: { error in
            guard case .operation(let redisError) = error as? BorrowError<RedisError> else { return false }
            return redisError.kind == .io
        }
        #expect(pool.statistics.discarded == 1 && pool.statistics.open == 0)
        let reply = try pool.withConnection { connection throws(RedisError) in try connection.send(RedisCommand("PING")) }
        #expect(reply == .status("PONG"))
    }

    @Test func aTimedOutConnectionIsNeverLentAgain() throws {
        let server = RedisServer()  // DEBUG SLEEP stalls the whole server: keep it away from other tests
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: server.url)
        options.socketTimeout = .milliseconds(100)
        var configuration = PoolConfiguration()
        configuration.maxConnections = 1
        let pool = RedisConnectionPool(configuration: configuration, factory: RedisConnectionFactory(options: options))
        #expect(throws: (any Error).self) {
            try pool.withConnection { connection throws(RedisError) in
                try connection.send(RedisCommand("DEBUG", "SLEEP", "0.3"))
            }
        }
        #expect(pool.statistics.discarded == 1)
        // The late +OK of DEBUG SLEEP must never be read as the reply to the next command.
        let key = uniqueKey("after-timeout")
        _ = server.command(["SET", key, "fresh"])  // blocks until DEBUG SLEEP is over
        let reply = try pool.withConnection { connection throws(RedisError) in try connection.send(RedisCommand("GET", key)) }
        #expect(reply == .bulk(Array("fresh".utf8)))
    }
}
