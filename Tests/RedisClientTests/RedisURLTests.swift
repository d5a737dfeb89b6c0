import RedisClient
import Testing

@Suite struct RedisURLTests {
    @Test func parsesEveryPart() throws {
        let url = try RedisURL(parsing: "redis://app:s%40cret@cache.internal:6380/3")
        #expect(url.host == "cache.internal" && url.port == 6380 && url.database == 3)
        #expect(url.username == "app" && url.password == "s@cret")
    }

    @Test func fillsInDefaults() throws {
        let url = try RedisURL(parsing: "redis://localhost")
        #expect(url.host == "localhost" && url.port == 6379 && url.database == 0)
        #expect(url.username == nil && url.password == nil)
    }

    @Test func aLoneUserInfoIsThePassword() throws {
        let url = try RedisURL(parsing: "redis://secret@h:1/0")
        #expect(url.username == nil && url.password == "secret")
        let empty = try RedisURL(parsing: "redis://:pw@h")
        #expect(empty.username == nil && empty.password == "pw")
    }

    @Test func acceptsBracketedIPv6() throws {
        let url = try RedisURL(parsing: "redis://[::1]:7000/1")
        #expect(url.host == "::1" && url.port == 7000 && url.database == 1)
        #expect(url.poolName == "[::1]:7000/1")
    }

    @Test(arguments: [
        "http://h", "h:6379", "redis://h:0", "redis://h:99999", "redis://h:x", "redis://h/-1", "redis://h/a", "redisx://h",
        "rediss+nope://h",
    ])
    func rejectsMalformedURLs(_ text: String) {
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: text) }
    }

    @Test func everySchemeHasATLSForm() throws {
        let single = try RedisURL(parsing: "rediss://u:pw@cache.example.com:6380/2")
        #expect(single.usesTLS && single.host == "cache.example.com" && single.port == 6380 && single.database == 2)
        #expect(single.description == "rediss://u:****@cache.example.com:6380/2")
        let sentinel = try RedisURL(parsing: "rediss+sentinel://s1:26379,s2/mymaster/1")
        #expect(sentinel.usesTLS && sentinel.sentinel?.masterName == "mymaster" && sentinel.database == 1)
        #expect(sentinel.description.hasPrefix("rediss+sentinel://"))
        let cluster = try RedisURL(parsing: "REDISS+CLUSTER://n1:7000,n2:7001/")
        #expect(cluster.usesTLS && cluster.cluster?.count == 2 && cluster.description.hasPrefix("rediss+cluster://"))
        #expect(try !RedisURL(parsing: "redis://h").usesTLS)
    }

    @Test func masksThePasswordWhenPrinted() throws {
        let url = try RedisURL(parsing: "redis://u:topsecret@h:1/2")
        #expect(url.description == "redis://u:****@h:1/2")
        #expect(!url.description.contains("topsecret"))
    }

    @Test func parsesASentinelURLWithSeparateCredentials() throws {
        let url = try RedisURL(
            parsing:
                "redis+sentinel://app:data%40pw@10.0.0.1:26380,10.0.0.2,[::1]:26381/mymaster/3?sentinel_password=s%26pw&sentinel_username=watcher"
        )
        let sentinel = try #require(url.sentinel)
        #expect(sentinel.addresses.map(\.description) == ["10.0.0.1:26380", "10.0.0.2:26379", "[::1]:26381"])
        #expect(sentinel.masterName == "mymaster" && sentinel.password == "s&pw" && sentinel.username == "watcher")
        #expect(url.username == "app" && url.password == "data@pw" && url.database == 3)
        #expect(url.poolName == "sentinel:mymaster/3")
        #expect(url.description == "redis+sentinel://app:****@10.0.0.1:26380,10.0.0.2:26379,[::1]:26381/mymaster/3?sentinel_password=****")
        #expect(!url.description.contains("pw"))
    }

    @Test func aSentinelURLNeedsAMasterNameAndKnownParameters() {
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: "redis+sentinel://h:26379") }
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: "redis+sentinel://h:26379/m?sentinel_pasword=x") }
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: "redis+sentinel://h:0/m") }
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: "redis+sentinel://h,/m") }
        #expect((try? RedisURL(parsing: "redis+sentinel://h/m"))?.database == 0)
    }

    @Test func parsesClusterSeeds() throws {
        let url = try RedisURL(parsing: "redis+cluster://app:pw@10.0.0.1:7000,10.0.0.2,[::1]:7002/")
        #expect(url.cluster == [.init(host: "10.0.0.1", port: 7000), .init(host: "10.0.0.2", port: 6379), .init(host: "::1", port: 7002)])
        #expect(url.host == "10.0.0.1" && url.port == 7000 && url.username == "app" && url.password == "pw")
        #expect(url.description == "redis+cluster://app:****@10.0.0.1:7000,10.0.0.2:6379,[::1]:7002/")
        #expect(url.poolName == "cluster")
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: "redis+cluster://h:7000/1") }
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: "redis+cluster://h:7000,/") }
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: "redis+cluster://h:x/") }
    }
}
