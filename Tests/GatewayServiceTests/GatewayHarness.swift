import ConnectionPool
import Foundation
import GatewayService
import HTTPServer
import Logging
import RedisClient
import TestSupport

/// A running gateway on a free port in front of a real redis-server, for end-to-end tests. The
/// gateway is shut down (pool closed, port released) when the harness is dropped.
final class GatewayHarness: Sendable {
    let gateway: Gateway
    let client: HTTPTestClient

    init(
        redisURL: String = RedisServer.shared.url, logger: Logger = Logger(label: "test"),
        _ adjust: (inout GatewayConfiguration) -> Void = { _ in }
    ) throws {
        var configuration = GatewayConfiguration()
        configuration.redis.url = try RedisURL(parsing: redisURL)
        configuration.http.port = 0
        configuration.http.workerThreads = 4
        configuration.pool.maxConnections = 4
        configuration.shutdownGrace = .seconds(2)
        configuration.session.databasePath = temporaryDatabasePath()
        configuration.session.seedUsers = 100
        // Logins in tests: a cheap hash, and room for many from 127.0.0.1 (LoginTests sets the limits it tests).
        configuration.session.passwordRounds = 1000
        configuration.session.loginLimitPerAddress = 10_000
        configuration.session.loginLimitPerUser = 10_000
        adjust(&configuration)
        gateway = try Gateway(configuration: configuration, logger: logger)
        client = HTTPTestClient(port: gateway.port)
    }

    deinit {
        gateway.shutdown()
    }

    func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) -> TestResponse {
        guard let response = client.request(method, target, headers: headers, body: body) else {
            return TestResponse(status: -1, headers: [:], body: Array("no response".utf8))
        }
        return response
    }

    func request(_ method: String, _ target: String, text: String, headers: [(String, String)] = []) -> TestResponse {
        request(method, target, headers: headers, body: Array(text.utf8))
    }
}

/// A fresh SQLite path under the temporary directory.
func temporaryDatabasePath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("gateway-test-\(UUID().uuidString)/users.sqlite").path
}

/// Percent-encodes every byte that is not unreserved, for building paths from keys.
func encoded(_ key: String) -> String {
    var output = ""
    for byte in key.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            output.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            output += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }
    }
    return output
}
