import Crypto
import Foundation
import GatewayService
import HTTPServer
import TestSupport
import Testing

/// The session example against its callers, on a real Redis: a login needs the password and is
/// limited per address and per user; no token can name the reserved keys, and what a script can
/// reach anyway (forging, copying, reading or altering values) gets it nothing.
@Suite struct SessionSecurityTests {
    let redis = RedisServer()
    let full = [("Authorization", "Bearer full")]

    func harness(_ adjust: @escaping (inout GatewayConfiguration) -> Void = { _ in }) throws -> GatewayHarness {
        try GatewayHarness(redisURL: redis.url) {
            $0.auth.tokens = ["full"]
            adjust(&$0)
        }
    }

    func login(_ harness: GatewayHarness, user: Int, password: String = "demo-password", from source: String? = nil) -> TestResponse {
        let body = #"{"user_id": \#(user), "password": "\#(password)"}"#
        guard let source else { return harness.request("POST", "/api/login", text: body) }
        guard let socket = BlockingSocket(port: harness.gateway.port, sourceAddress: source) else {
            return TestResponse(status: 0, headers: [:], body: [])
        }
        let head = "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        _ = socket.write(Array((head + body).utf8))
        return HTTPTestClient.parse(socket.readToEnd()) ?? TestResponse(status: 0, headers: [:], body: [])
    }

    func sid(_ response: TestResponse) -> String {
        String((response.headers["set-cookie"] ?? "").dropFirst(4).prefix { $0 != ";" })
    }

    func sessionKey(_ sid: String) -> String {
        "__gateway:session:" + SHA256.hash(data: Array(sid.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func data(_ harness: GatewayHarness, sid: String) -> TestResponse {
        harness.request("GET", "/api/data", headers: [("Authorization", "Session \(sid)")])
    }

    @Test func aLoginNeedsTheUsersPasswordAndSaysNothingOfWhichPartWasWrong() throws {
        let harness = try harness()
        #expect(login(harness, user: 3).status == 200)
        let wrong = login(harness, user: 3, password: "guess")
        let unknown = login(harness, user: 100_000)
        #expect(wrong.status == 401 && unknown.status == 401)
        #expect(wrong.text == #"{"error":"wrong user id or password"}"# && unknown.text == wrong.text)
        #expect(harness.request("POST", "/api/login", text: #"{"user_id": 3}"#).status == 400, "no password")
    }

    /// upstash-ratelimit's sliding window, in Redis: per address, and per user from any address.
    @Test func loginsAreLimitedPerAddressAndPerUser() throws {
        let harness = try harness {
            $0.session.loginLimitPerAddress = 3
            $0.session.loginLimitPerUser = 2
        }
        #expect(login(harness, user: 1, password: "guess").status == 401)
        #expect(login(harness, user: 1).status == 200)
        let perUser = login(harness, user: 1)
        #expect(perUser.status == 429 && perUser.text.contains("for this user"), "\(perUser.text)")
        #expect(Int(perUser.headers["retry-after"] ?? "") ?? 0 >= 1)
        // A refused attempt is not counted (as upstash-ratelimit does): the address has used 2 of 3.
        #expect(login(harness, user: 2).status == 200)
        let perAddress = login(harness, user: 3)
        #expect(perAddress.status == 429 && perAddress.text.contains("from this address"), "\(perAddress.text)")
        // Another address: its own count, but user 1 stays limited wherever it comes from.
        #expect(login(harness, user: 2, from: "127.0.0.2").status == 200)
        #expect(login(harness, user: 1, from: "127.0.0.2").status == 429)
        // Even the right password is not checked past the limit (no hashing for a flood).
        #expect(login(harness, user: 1, from: "127.0.0.3").text.contains("too many login attempts"))
    }

    @Test func noTokenMayNameTheReservedKeys() throws {
        let harness = try harness()
        for body in [
            #"["GET","__gateway:session:abc"]"#, #"["SET","__gateway:user_data:1","x"]"#, #"["KEYS","__gateway:*"]"#,
            #"["SCAN","0","MATCH","__gateway:*"]"#, #"["MSET","a","1","__gateway:x","2"]"#,
        ] {
            let response = harness.request("POST", "/", text: body, headers: full)
            #expect(response.status == 403 && response.text.contains("GATEWAY_RESERVED_KEY_PREFIX"), "\(body): \(response.text)")
        }
        #expect(harness.request("GET", "/get/__gateway:user_data:1", headers: full).status == 403)
        #expect(harness.request("GET", "/cache/__gateway:user_data:1", headers: full).status == 403)
        #expect(harness.request("PUT", "/cache/__gateway:x", text: "v", headers: full).status == 403)
        #expect(harness.request("POST", "/pipeline", text: #"[["GET","a"],["GET","__gateway:x"]]"#, headers: full).status == 403)
        #expect(
            harness.request("POST", "/", text: #"["SET","ok","__gateway: a value, not a key, but refused too"]"#, headers: full).status
                == 403)
    }

    /// A script reaches any key whatever the policy sees: `"__gate" .. "way:…"`. It still cannot
    /// forge a session, reuse one under another id, read a user's data, or plant data for a user.
    @Test func whatAScriptReachesGetsItNothing() throws {
        let harness = try harness()
        func script(_ source: String, _ arguments: [String]) -> TestResponse {
            let quoted = ([source, "0"] + arguments).map { "\"\($0)\"" }.joined(separator: ",")
            return harness.request("POST", "/", text: #"["EVAL",\#(quoted)]"#, headers: full)
        }
        let setSplit = "return redis.call('SET', ARGV[1] .. ARGV[2], ARGV[3])"
        // Forged: a session id of the attacker's choosing, claiming user 1.
        let chosen = String(repeating: "ab", count: 16)
        let forgedKey = sessionKey(chosen)
        #expect(script(setSplit, ["__gate", String(forgedKey.dropFirst(6)), "1:AAAA"]).status == 200)
        #expect(data(harness, sid: chosen).status == 401, "a forged session is no session")

        // Copied: user 1's real session value under the attacker's id.
        let victim = sid(login(harness, user: 1))
        let realValue = try #require(redis.command(["GET", sessionKey(victim)]))
        #expect(script(setSplit, ["__gate", String(forgedKey.dropFirst(6)), realValue]).status == 200)
        #expect(data(harness, sid: chosen).status == 401, "a session value is bound to its key")
        let real = data(harness, sid: victim)
        #expect(real.status == 200 && real.text.contains("user1@example.com"))

        // Read: the cached data is sealed.
        let read = script("return redis.call('GET', ARGV[1] .. ARGV[2])", ["__gate", "way:user_data:1"])
        #expect(read.status == 200 && !read.text.contains("user1@example.com") && !read.text.contains("User 1"), "\(read.text)")

        // Altered: planted data is no cached data; the real one is loaded and sealed again.
        #expect(script(setSplit, ["__gate", "way:user_data:1", #"{\"id\":1,\"name\":\"pwned\"}"#]).status == 200)
        let afterPlant = data(harness, sid: victim)
        #expect(afterPlant.status == 200 && afterPlant.text.contains("user1@example.com") && !afterPlant.text.contains("pwned"))
        #expect(afterPlant.headers["x-cache"] == "miss")

        // Listed: the keys show hashes, never a session id.
        let keys = harness.request("POST", "/", text: #"["KEYS","*"]"#, headers: full).text
        #expect(keys.contains("__gateway:session:") && !keys.contains(victim))
    }
}
