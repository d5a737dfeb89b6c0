import ConnectionPool
import RedisClient
import Synchronization
import TestSupport
import Testing

@testable import GatewayService

/// The server's command list against a real Redis: read once, shared, and read again after a
/// failover (`forget()`), each read followed by the script permission check's hook.
@Suite struct ServerCommandCatalogTests {
    @Test func theListIsReadOnceAndAgainAfterAFailover() throws {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: RedisServer.shared.url)
        var configuration = PoolConfiguration()
        configuration.maxConnections = 1
        configuration.minIdle = 0
        let redis = RedisExecutor(
            pool: RedisConnectionPool(configuration: configuration, factory: RedisConnectionFactory(options: options)))
        let reads = Atomic<Int>(0)
        let catalog = ServerCommandCatalog()
        catalog.afterEachRead { names in
            #expect(names.contains("GET"))
            reads.add(1, ordering: .relaxed)
        }
        #expect(catalog.current == nil)
        _ = try catalog.names(readingWith: redis)
        _ = try catalog.names(readingWith: redis)
        #expect(reads.load(ordering: .relaxed) == 1 && catalog.current != nil)
        catalog.forget()
        #expect(catalog.current == nil)
        #expect(try catalog.names(readingWith: redis).contains("SET"))
        #expect(reads.load(ordering: .relaxed) == 2)
    }
}
