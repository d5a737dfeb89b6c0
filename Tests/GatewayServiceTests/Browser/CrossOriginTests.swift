import GatewayService
import HTTPServer
import TestSupport
import Testing

/// CORS end to end: a gateway with `GATEWAY_CORS_ORIGINS` set, in front of a real Redis.
@Suite struct CrossOriginTests {
    static let allowed = "http://app.test:8080"
    let harness: GatewayHarness

    init() throws {
        harness = try GatewayHarness { configuration in
            configuration.auth.tokens = ["writer"]
            configuration.auth.readOnlyTokens = ["reader"]
            configuration.crossOrigin = .origins([Self.allowed])
        }
    }

    private func preflight(_ origin: String, method: String = "PUT") -> TestResponse {
        harness.request(
            "OPTIONS", "/cache/k",
            headers: [("Origin", origin), ("Access-Control-Request-Method", method), ("Access-Control-Request-Headers", "authorization")])
    }

    @Test func aPreflightFromAnAllowedOriginNeedsNoTokenAndListsWhatMaySend() {
        let response = preflight(Self.allowed)
        #expect(response.status == 204)
        #expect(response.headers["access-control-allow-origin"] == Self.allowed)
        #expect(response.headers["access-control-allow-methods"]?.contains("PUT") == true)
        for header in [
            "Authorization", "Content-Type", "Upstash-Encoding", "Upstash-Response-Format", "Upstash-Sync-Token", "X-Request-Id",
        ] {
            #expect(response.headers["access-control-allow-headers"]?.contains(header) == true, "\(header)")
        }
        #expect(response.headers["access-control-max-age"] == "600")
        #expect(response.headers["vary"] == "Origin")
        // A preflight of a command route (the fallback) too.
        let command = harness.request("OPTIONS", "/get/k", headers: [("Origin", Self.allowed), ("Access-Control-Request-Method", "GET")])
        #expect(command.status == 204)
    }

    @Test func aRefusedOriginGetsNoCORSHeaders() {
        let response = preflight("http://evil.test")
        #expect(response.status == 403)
        #expect(response.headers["access-control-allow-origin"] == nil)
        #expect(response.headers["vary"] == "Origin")
        let read = harness.request("GET", "/cache/k", headers: [("Origin", "http://evil.test"), ("Authorization", "Bearer reader")])
        #expect(read.headers["access-control-allow-origin"] == nil)
        #expect(read.headers["access-control-expose-headers"] == nil)
    }

    @Test func actualResponsesNameTheOriginVaryOnItAndExposeTheGatewaysHeaders() {
        let key = uniqueKey("cors")
        let put = harness.request(
            "PUT", "/cache/\(key)", headers: [("Origin", Self.allowed), ("Authorization", "Bearer writer")], body: Array("v".utf8))
        #expect(put.status == 201)
        #expect(put.headers["access-control-allow-origin"] == Self.allowed)
        let get = harness.request("GET", "/cache/\(key)", headers: [("Origin", Self.allowed), ("Authorization", "Bearer reader")])
        #expect(get.status == 200)
        #expect(get.headers["access-control-allow-origin"] == Self.allowed)
        #expect(get.headers["vary"]?.contains("Origin") == true)
        for header in ["upstash-sync-token", "X-Request-Id", "X-TTL", "X-Cache", "ETag", "Retry-After"] {
            #expect(get.headers["access-control-expose-headers"]?.contains(header) == true, "\(header)")
        }
        #expect(get.headers["access-control-allow-credentials"] == nil)
        // Without Origin (not a browser): the answer still says it varies by origin, for caches.
        #expect(
            harness.request("GET", "/cache/\(key)", headers: [("Authorization", "Bearer reader")]).headers["vary"]?.contains("Origin")
                == true)
    }

    @Test(arguments: [
        ("GET", "/cache/k", [("Authorization", "Bearer wrong")], 401),
        ("PUT", "/cache/k", [("Authorization", "Bearer reader")], 403),
        ("GET", "/no/such/thing/at/all", [("Authorization", "Bearer reader")], 400),
    ])
    func errorsCarryTheCORSHeadersSoAPageCanReadThem(method: String, path: String, headers: [(String, String)], status: Int) {
        let response = harness.request(method, path, headers: headers + [("Origin", Self.allowed)], body: Array("v".utf8))
        #expect(response.status == status)
        #expect(response.headers["access-control-allow-origin"] == Self.allowed)
        #expect(response.text.contains(#""error""#))
    }

    @Test func anyOriginIsAStarWithoutVaryOrCredentials() throws {
        let open = try GatewayHarness { configuration in
            configuration.auth.tokens = ["writer"]
            configuration.crossOrigin = .any
        }
        let response = open.request("GET", "/cache/k", headers: [("Origin", "http://anywhere.test"), ("Authorization", "Bearer writer")])
        #expect(response.headers["access-control-allow-origin"] == "*")
        #expect(response.headers["access-control-allow-credentials"] == nil)
        #expect(response.headers["vary"]?.contains("Origin") != true)
    }

    @Test func withoutTheSettingNothingChanges() throws {
        let plain = try GatewayHarness { $0.auth.tokens = ["writer"] }
        let preflight = plain.request("OPTIONS", "/cache/k", headers: [("Origin", Self.allowed), ("Access-Control-Request-Method", "GET")])
        #expect(preflight.status == 405)
        let read = plain.request("GET", "/cache/k", headers: [("Origin", Self.allowed), ("Authorization", "Bearer writer")])
        #expect(read.headers["access-control-allow-origin"] == nil)
        #expect(read.headers["vary"]?.contains("Origin") != true)
    }

    @Test(arguments: [
        ("", CrossOriginPolicy.none), ("*", .any),
        ("https://A.test, http://b.test:8080", .origins(["https://a.test", "http://b.test:8080"])),
    ])
    func theSettingParses(text: String, policy: CrossOriginPolicy) throws {
        let configuration = try GatewayConfiguration(environment: ["GATEWAY_CORS_ORIGINS": text])
        #expect(configuration.crossOrigin == policy)
    }

    @Test(arguments: ["app.test", "https://a.test/path", "ftp://a.test", "http://", "*,https://a.test"])
    func anEntryThatIsNotAnOriginIsRefusedAtStart(text: String) {
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration(environment: ["GATEWAY_CORS_ORIGINS": text]) }
    }
}
