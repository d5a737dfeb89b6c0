import ConnectionPool
import Foundation
import GatewayService
import HTTPServer
import Logging
import RedisClient
import Testing

@Suite struct GatewayConfigurationTests {
    @Test func readsEveryKeyFromTheEnvironment() throws {
        let configuration = try GatewayConfiguration(environment: [
            "REDIS_URL": "redis://u:p@10.0.0.5:6380/2", "GATEWAY_HOST": "0.0.0.0", "GATEWAY_PORT": "9000",
            "GATEWAY_THREADS": "3", "GATEWAY_CONNECTION_LIMIT": "50", "GATEWAY_MAX_CONNECTIONS": "7",
            "GATEWAY_WAIT_TIMEOUT_MS": "150", "GATEWAY_CONNECT_TIMEOUT_MS": "250", "GATEWAY_SOCKET_TIMEOUT_MS": "350",
            "GATEWAY_HEALTH_CHECK_INTERVAL_MS": "4500", "GATEWAY_MAX_BODY_BYTES": "1000", "GATEWAY_MAX_KEY_BYTES": "64",
            "GATEWAY_CLIENT_NAME": "", "GATEWAY_POOL_MODE": "per-request", "GATEWAY_TOKENS": "a, b",
            "GATEWAY_READONLY_TOKENS": "r", "GATEWAY_PROTECT_METRICS": "yes", "GATEWAY_ALLOW_COMMANDS": "flushdb",
            "GATEWAY_DENY_COMMANDS": "KEYS", "GATEWAY_MAX_BATCH_COMMANDS": "10", "GATEWAY_MAX_COMMAND_ARGUMENTS": "20",
            "GATEWAY_HTTP_POLLING": "epoll",
        ])
        #expect(configuration.pool.reuseConnections == false)
        #expect(configuration.auth.tokens == ["a", "b"] && configuration.auth.readOnlyTokens == ["r"] && configuration.auth.protectMetrics)
        #expect(!configuration.commandPolicy.denied.contains("FLUSHDB") && configuration.commandPolicy.denied.contains("KEYS"))
        #expect(configuration.commandLimits.maxCommandsPerBatch == 10 && configuration.commandLimits.maxArgumentsPerCommand == 20)
        #expect(configuration.redis.url.host == "10.0.0.5" && configuration.redis.url.database == 2)
        #expect(configuration.http.host == "0.0.0.0" && configuration.http.port == 9000)
        #expect(configuration.http.workerThreads == 3 && configuration.http.connectionLimit == 50)
        #expect(configuration.http.polling == .epoll && !configuration.http.usesPoll)
        #expect(configuration.pool.maxConnections == 7 && configuration.pool.waitTimeout == .milliseconds(150))
        #expect(configuration.redis.connectTimeout == .milliseconds(250) && configuration.redis.socketTimeout == .milliseconds(350))
        #expect(configuration.pool.healthCheckInterval == .milliseconds(4500))
        #expect(configuration.http.maxBodyBytes == 1000 && configuration.maxKeyBytes == 64)
        #expect(configuration.redis.clientName == nil)
    }

    @Test func readsTheResilienceSettings() throws {
        let configuration = try GatewayConfiguration(environment: [
            "REDIS_URL": "redis+sentinel://:d@h1,h2:26380/mymaster/0", "REDIS_SENTINEL_PASSWORD": "s",
            "GATEWAY_MIN_IDLE": "3", "GATEWAY_MAX_LIFETIME_S": "0", "GATEWAY_IDLE_TIMEOUT_S": "60", "GATEWAY_MAX_CONCURRENT_DIALS": "4",
            "GATEWAY_RECONNECT_BACKOFF_MS": "50", "GATEWAY_RECONNECT_BACKOFF_CAP_MS": "2000", "GATEWAY_LEAK_DETECTION_MS": "0",
            "GATEWAY_SHUTDOWN_GRACE_MS": "1500", "GATEWAY_RETRY_ATTEMPTS": "1", "GATEWAY_RETRY_BACKOFF_MS": "7",
            "GATEWAY_RETRY_AFTER_TIMEOUT": "1", "GATEWAY_RETRY_UNCONDITIONAL_SET": "true", "GATEWAY_MIN_REPLICA_ACKS": "1",
            "GATEWAY_REPLICA_ACK_TIMEOUT_MS": "250", "GATEWAY_PER_ADDRESS_CONNECTION_LIMIT": "64", "GATEWAY_CONNECTION_TIMEOUT_S": "5",
        ])
        #expect(configuration.redis.url.sentinel?.password == "s" && configuration.redis.url.password == "d")
        #expect(configuration.pool.minIdle == 3 && configuration.pool.maxLifetime == nil && configuration.pool.idleTimeout == .seconds(60))
        #expect(configuration.pool.maxConcurrentDials == 4 && configuration.pool.leakDetectionThreshold == nil)
        #expect(configuration.pool.reconnectBackoff == .milliseconds(50) && configuration.pool.reconnectBackoffCap == .seconds(2))
        #expect(configuration.shutdownGrace == .milliseconds(1500))
        #expect(configuration.retry.attempts == 1 && configuration.retry.backoff == .milliseconds(7))
        #expect(configuration.retry.resendAfterTimeout && configuration.retry.resendUnconditionalSet)
        #expect(configuration.replicaAcknowledgement.replicas == 1 && configuration.replicaAcknowledgement.timeout == .milliseconds(250))
        #expect(configuration.http.perAddressConnectionLimit == 64 && configuration.http.connectionTimeoutSeconds == 5)
        #expect(!configuration.summary.joined().contains("s@") && configuration.summary.joined().contains("sentinel_password=****"))
    }

    @Test func aSentinelPasswordWithoutASentinelURLIsAnError() {
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration(environment: ["REDIS_SENTINEL_PASSWORD": "s"]) }
    }

    @Test func defaultsWithAnEmptyEnvironment() throws {
        let configuration = try GatewayConfiguration(environment: [:])
        #expect(configuration == GatewayConfiguration())
        #expect(configuration.redis.url.description == "redis://127.0.0.1:6379/0")
        #expect(configuration.http.port == 8080)
    }

    @Test(arguments: [
        ("GATEWAY_PORT", "70000"), ("GATEWAY_MAX_CONNECTIONS", "0"), ("GATEWAY_WAIT_TIMEOUT_MS", "soon"), ("REDIS_URL", "http://x"),
        ("GATEWAY_HTTP_POLLING", "select"),
    ])
    func rejectsBadValuesNamingTheVariable(_ key: String, _ value: String) {
        #expect {
            try GatewayConfiguration(environment: [key: value])
        } throws: { error in
            (error as? ConfigurationError)?.description.hasPrefix(key) == true
        }
    }

    @Test func readsTokensFromAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        try "# comment\nfull-one\n\nreadonly ro-one\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try GatewayConfiguration(environment: ["GATEWAY_TOKENS_FILE": path])
        #expect(configuration.auth.tokens == ["full-one"] && configuration.auth.readOnlyTokens == ["ro-one"])
    }

    @Test func theSummaryMasksThePassword() throws {
        let configuration = try GatewayConfiguration(environment: ["REDIS_URL": "redis://u:hunter2@h:1/0"])
        #expect(!configuration.summary.joined().contains("hunter2"))
    }

    @Test func flagsWinOverTheEnvironmentAndUnknownOnesAreRefused() throws {
        let request = try SettingsCommandLine.parse(
            ["--port", "9100", "--wait-timeout-ms=150", "--log-level", "debug"],
            environment: ["GATEWAY_PORT": "9000", "GATEWAY_THREADS": "3"])
        guard case .run(let environment) = request else { Issue.record("expected run"); return }
        let configuration = try GatewayConfiguration(environment: environment)
        #expect(configuration.http.port == 9100 && configuration.http.workerThreads == 3)
        #expect(configuration.pool.waitTimeout == .milliseconds(150) && configuration.logLevel == .debug)
        #expect(throws: ConfigurationError.self) { try SettingsCommandLine.parse(["--no-such-flag", "1"], environment: [:]) }
        #expect(throws: ConfigurationError.self) { try SettingsCommandLine.parse(["--port"], environment: [:]) }
        #expect(throws: ConfigurationError.self) {
            try SettingsCommandLine.parse(["--redis-sentinel-password", "x"], environment: [:])
        }
    }

    @Test func everySettingIsNamedOnceAndItsDefaultReadsBackUnchanged() throws {
        let names = GatewayConfiguration.settings.map(\.name)
        #expect(Set(names).count == names.count)
        var environment: [String: String] = [:]
        for setting in GatewayConfiguration.settings where setting.defaultText != "none" { environment[setting.name] = setting.defaultText }
        #expect(try GatewayConfiguration(environment: environment) == GatewayConfiguration(), "each default, applied, is the default")
        #expect(SettingsCommandLine.help.contains("--wait-timeout-ms (env GATEWAY_WAIT_TIMEOUT_MS; default 2000)"))
    }

    @Test func healthCheckReadsTheSettingsAroundIt() throws {
        let request = try SettingsCommandLine.parse(["--health-check", "--port", "9000"], environment: ["GATEWAY_HOST": "0.0.0.0"])
        #expect(request == .healthCheck(environment: ["GATEWAY_HOST": "0.0.0.0", "GATEWAY_PORT": "9000"]))
        #expect(try SettingsCommandLine.parse(["--port", "9000"], environment: [:]) == .run(environment: ["GATEWAY_PORT": "9000"]))
    }

    @Test func theSummaryMasksTokens() throws {
        let configuration = try GatewayConfiguration(environment: ["GATEWAY_TOKENS": "secret-token"])
        #expect(configuration.summary.contains("GATEWAY_TOKENS=****") && !configuration.summary.joined().contains("secret-token"))
    }

    /// README's settings table is the one the table produces (regenerate: `redis-gateway --settings-table`).
    @Test func theReadmeTableMatchesTheSettings() throws {
        let readme = try String(contentsOfFile: #filePath.components(separatedBy: "/Tests/")[0] + "/README.md", encoding: .utf8)
        let begin = "<!-- settings-table:begin (generated by `redis-gateway --settings-table`) -->\n"
        let end = "<!-- settings-table:end -->"
        let start = try #require(readme.range(of: begin), "README has the settings-table markers")
        let stop = try #require(readme.range(of: end, range: start.upperBound..<readme.endIndex))
        let table = String(readme[start.upperBound..<stop.lowerBound])
        #expect(table == SettingsCommandLine.markdownTable, "README's table is stale; expected:\n\(SettingsCommandLine.markdownTable)")
    }
}
