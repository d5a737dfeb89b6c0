import ConnectionPool
import GatewayService
import HTTPServer
import RedisClient
import Testing

@Suite struct GatewayConfigurationTests {
    @Test func readsEveryKeyFromTheEnvironment() throws {
        let configuration = try GatewayConfiguration(environment: [
            "REDIS_URL": "redis://u:p@10.0.0.5:6380/2", "GATEWAY_HOST": "0.0.0.0", "GATEWAY_PORT": "9000",
            "GATEWAY_THREADS": "3", "GATEWAY_CONNECTION_LIMIT": "50", "GATEWAY_MAX_CONNECTIONS": "7",
            "GATEWAY_WAIT_TIMEOUT_MS": "150", "GATEWAY_CONNECT_TIMEOUT_MS": "250", "GATEWAY_SOCKET_TIMEOUT_MS": "350",
            "GATEWAY_HEALTH_CHECK_INTERVAL_MS": "4500", "GATEWAY_MAX_BODY_BYTES": "1000", "GATEWAY_MAX_KEY_BYTES": "64",
            "GATEWAY_CLIENT_NAME": "",
        ])
        #expect(configuration.redis.url.host == "10.0.0.5" && configuration.redis.url.database == 2)
        #expect(configuration.http.host == "0.0.0.0" && configuration.http.port == 9000)
        #expect(configuration.http.workerThreads == 3 && configuration.http.connectionLimit == 50)
        #expect(configuration.pool.maxConnections == 7 && configuration.pool.waitTimeout == .milliseconds(150))
        #expect(configuration.redis.connectTimeout == .milliseconds(250) && configuration.redis.socketTimeout == .milliseconds(350))
        #expect(configuration.pool.healthCheckInterval == .milliseconds(4500))
        #expect(configuration.http.maxBodyBytes == 1000 && configuration.maxKeyBytes == 64)
        #expect(configuration.redis.clientName == nil)
    }

    @Test func defaultsWithAnEmptyEnvironment() throws {
        let configuration = try GatewayConfiguration(environment: [:])
        #expect(configuration == GatewayConfiguration())
        #expect(configuration.redis.url.description == "redis://127.0.0.1:6379/0")
        #expect(configuration.http.port == 8080)
    }

    @Test(arguments: [
        ("GATEWAY_PORT", "70000"), ("GATEWAY_MAX_CONNECTIONS", "0"), ("GATEWAY_WAIT_TIMEOUT_MS", "soon"), ("REDIS_URL", "http://x"),
    ])
    func rejectsBadValuesNamingTheVariable(_ key: String, _ value: String) {
        #expect {
            try GatewayConfiguration(environment: [key: value])
        } throws: { error in
            (error as? ConfigurationError)?.description.hasPrefix(key) == true
        }
    }

    @Test func theSummaryMasksThePassword() throws {
        let configuration = try GatewayConfiguration(environment: ["REDIS_URL": "redis://u:hunter2@h:1/0"])
        #expect(!configuration.summary.joined().contains("hunter2"))
    }
}
