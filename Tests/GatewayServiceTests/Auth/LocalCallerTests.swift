import Foundation
import HTTPServer
import Logging
import RedisClient
import TestSupport
import Testing

@testable import GatewayService

/// Secure by default: with no tokens the gateway serves only local, non-browser callers, never
/// starts on a public address unless told to, and no GET or HEAD ever writes.
@Suite struct LocalCallerTests {
    let harness: GatewayHarness
    init() throws { harness = try GatewayHarness() }

    /// One raw request with exactly these header lines (the test client adds its own Host).
    func raw(_ head: String) -> TestResponse? {
        guard let socket = BlockingSocket(port: harness.gateway.port) else { return nil }
        _ = socket.write(Array((head + "Connection: close\r\n\r\n").utf8))
        return HTTPTestClient.parse(socket.readToEnd())
    }

    @Test func browsersAndForeignHostsAreRefusedWhenAuthenticationIsOff() {
        let key = uniqueKey("csrf")
        #expect(harness.request("POST", "/", text: #"["SET","\#(key)","mine"]"#).status == 200, "a local caller is served")
        let attacks = [
            "POST /set/\(key)/evil HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\n",
            "POST /set/\(key)/evil HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 0\r\n",
            "POST /set/\(key)/evil HTTP/1.1\r\nHost: rebound.example:8080\r\nContent-Length: 0\r\n",
            "GET /get/\(key) HTTP/1.1\r\nHost: evil.example\r\n",
            "GET /cache/\(key) HTTP/1.1\r\nHost: 127.0.0.1.evil.example\r\n",
        ]
        for attack in attacks {
            let response = raw(attack)
            #expect(response?.status == 403, "\(attack): \(String(describing: response?.status))")
            #expect(response?.text.contains("authentication is off") == true)
        }
        #expect(RedisServer.shared.command(["GET", key]) == "mine", "no attack wrote")
        for host in ["localhost:8080", "127.0.0.2", "[::1]:80", "LOCALHOST"] {
            #expect(raw("GET /get/\(key) HTTP/1.1\r\nHost: \(host)\r\n")?.status == 200, "Host: \(host) is local")
        }
        #expect(raw("GET /healthz HTTP/1.1\r\nHost: prober.internal\r\n")?.status == 200, "probes stay open")
    }

    @Test func getAndHeadNeverWrite() {
        let key = uniqueKey("safe")
        for (method, path) in [("GET", "/set/\(key)/x"), ("HEAD", "/incr/\(key)"), ("GET", "/del/\(key)"), ("GET", "/publish/c/m")] {
            let response = harness.request(method, path)
            #expect(response.status == 405, "\(method) \(path): \(response.status)")
            #expect(response.headers["allow"] == "POST")
        }
        #expect(RedisServer.shared.command(["EXISTS", key]) == ":0")
        #expect(harness.request("POST", "/incr/\(key)").text == #"{"result":1}"#, "POST writes")
        #expect(harness.request("GET", "/get/\(key)").text == #"{"result":"1"}"#, "GET reads")
    }

    @Test func noTokensOnAPublicAddressRefusesToStartUnlessAllowed() throws {
        var configuration = GatewayConfiguration()
        configuration.redis.url = try RedisURL(parsing: RedisServer.shared.url)
        configuration.http.host = "0.0.0.0"
        configuration.http.port = 0
        configuration.session.databasePath = temporaryDatabasePath()
        do {
            _ = try Gateway(configuration: configuration, logger: .init(label: "test"))
            Issue.record("started without tokens on 0.0.0.0")
        } catch {
            #expect(error.description.contains("GATEWAY_ALLOW_UNAUTHENTICATED"))
        }
        configuration.auth.allowUnauthenticated = true
        try Gateway(configuration: configuration, logger: .init(label: "test")).shutdown()
        configuration.auth.allowUnauthenticated = false
        configuration.auth.tokens = ["t"]
        try Gateway(configuration: configuration, logger: .init(label: "test")).shutdown()
    }

    @Test func aTabSeparatedReadonlyLineInTheTokensFileIsReadOnly() throws {
        let path = temporaryDatabasePath() + ".tokens"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "readonly\tviewer\nwriter\n".write(toFile: path, atomically: true, encoding: .utf8)
        var auth = AuthConfiguration()
        try auth.readTokensFile(path)
        #expect(auth.readOnlyTokens == ["viewer"])
        #expect(auth.tokens == ["writer"])
    }
}
