import ConnectionPool
import Foundation
import GatewayService
import HTTPServer
import RedisClient
import TestSupport
import Testing

/// The /cache endpoints end to end: HTTP over a socket → gateway → real Redis.
@Suite struct CacheHandlersTests {
    let harness: GatewayHarness
    let redis = RedisServer.shared

    init() throws {
        harness = try GatewayHarness()
    }

    func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    @Test func putThenGetThenReplaceThenDelete() {
        let key = uniqueKey("crud")
        let path = "/cache/\(encoded(key))"
        let created = harness.request("PUT", path, text: "hello")
        #expect(created.status == 201)
        #expect(json(created)["created"] as? Bool == true)
        let read = harness.request("GET", path)
        #expect(read.status == 200)
        #expect(json(read)["value"] as? String == "hello")
        #expect(json(read)["key"] as? String == key)
        #expect(json(read)["ttl"] as? Int == -1)
        #expect(harness.request("PUT", path, text: "again").status == 200)
        #expect(redis.command(["GET", key]) == "again")
        #expect(harness.request("DELETE", path).status == 204)
        #expect(harness.request("DELETE", path).status == 404)
        let missing = harness.request("GET", path)
        #expect(missing.status == 404)
        #expect(json(missing)["error"] as? String == "key not found")
    }

    @Test func binaryValuesRoundTripAsOctetStream() {
        let key = uniqueKey("bin")
        let value: [UInt8] = [0, 255, 13, 10, 0x80, 0x81, 42]
        #expect(harness.request("PUT", "/cache/\(encoded(key))", body: value).status == 201)
        let raw = harness.request("GET", "/cache/\(encoded(key))", headers: [("Accept", "application/octet-stream")])
        #expect(raw.body == value)
        #expect(raw.headers["content-type"] == "application/octet-stream")
        let asJSON = json(harness.request("GET", "/cache/\(encoded(key))"))
        #expect(asJSON["encoding"] as? String == "base64")
        #expect((asJSON["value"] as? String).flatMap { Data(base64Encoded: $0) } == Data(value))
    }

    @Test func keysArePercentDecodedSegments() {
        let key = uniqueKey("a/b c?é")
        #expect(harness.request("PUT", "/cache/\(encoded(key))", text: "v").status == 201)
        #expect(redis.command(["GET", key]) == "v")
    }

    /// The default per-connection buffer (5 KiB, kept small for idle connections' memory) still
    /// holds the longest allowed key fully percent-encoded, with the headers an SDK sends; past
    /// it, the documented statuses: 400 for a longer key, 414 for a longer URL.
    @Test func theDefaultBufferHoldsTheLongestKeyFullyEncodedWithSDKHeaders() {
        let limit = GatewayConfiguration().maxKeyBytes
        let headers = [
            ("Authorization", "Bearer " + String(repeating: "t", count: 64)), ("Content-Type", "application/json"),
            ("User-Agent", "upstash-redis-python/1.8.0 httpx/0.28"), ("Accept-Encoding", "gzip, deflate"),
            ("Upstash-Encoding", "base64"), ("X-Request-Id", String(repeating: "r", count: 36)),
        ]
        let key = String(repeating: "%7E", count: limit)
        #expect(harness.request("PUT", "/cache/\(key)", headers: headers, body: Array("v".utf8)).status == 201)
        #expect(harness.request("GET", "/cache/\(key)", headers: headers).status == 200)
        #expect(harness.request("GET", "/cache/\(key)%7E", headers: headers).status == 400)
        #expect(harness.request("GET", "/cache/" + String(repeating: "k", count: 20_000)).status == 414)
        #expect(harness.request("GET", "/cache/\(key)", headers: headers).status == 200, "the gateway keeps serving after the 414")
    }

    @Test func ttlExpireAndPersist() {
        let key = uniqueKey("ttl")
        let path = "/cache/\(encoded(key))"
        #expect(harness.request("PUT", path + "?ttl=100", text: "v").status == 201)
        let ttl = json(harness.request("GET", path + "/ttl"))["ttl"] as? Int ?? 0
        #expect((95...100).contains(ttl))
        #expect(harness.request("POST", path + "/expire", text: #"{"seconds": 500}"#).status == 200)
        #expect(Int(redis.command(["TTL", key])?.dropFirst() ?? "") ?? 0 > 400, "the expiry is set in Redis")
        #expect((json(harness.request("GET", path + "/ttl"))["ttl"] as? Int ?? 0) > 400)
        #expect(harness.request("DELETE", path + "/expire").status == 200)
        #expect(json(harness.request("GET", path + "/ttl"))["ttl"] as? Int == -1)
        let absent = "/cache/\(encoded(uniqueKey("absent")))"
        #expect(harness.request("GET", absent + "/ttl").status == 404)
        #expect(harness.request("POST", absent + "/expire", text: #"{"seconds": 5}"#).status == 404)
        #expect(harness.request("DELETE", absent + "/expire").status == 404)
    }

    @Test func nxRefusesToReplaceAnExistingKey() {
        let path = "/cache/\(encoded(uniqueKey("nx")))"
        #expect(harness.request("PUT", path + "?nx=1", text: "first").status == 201)
        let conflict = harness.request("PUT", path + "?nx=1", text: "second")
        #expect(conflict.status == 409)
        #expect(json(conflict)["error"] != nil)
        #expect(json(harness.request("GET", path))["value"] as? String == "first")
    }

    @Test func putReplacesAKeyOfAnotherTypeAndSaysWhetherItExisted() {
        let key = uniqueKey("typed")
        redis.command(["LPUSH", key, "x"])
        let replaced = harness.request("PUT", "/cache/\(encoded(key))", text: "now a string")
        #expect(replaced.status == 200 && replaced.text.contains(#""created":false"#), "SET replaces any type, as before")
        #expect(redis.command(["GET", key]) == "now a string")
        let fresh = uniqueKey("fresh")
        #expect(harness.request("PUT", "/cache/\(encoded(fresh))?ttl=100", text: "v").status == 201)
        #expect(harness.request("PUT", "/cache/\(encoded(fresh))", text: "w").status == 200)
        #expect(Int(redis.command(["TTL", fresh])?.dropFirst() ?? "") == -1, "a plain PUT clears the expiry, like SET")
    }

    @Test func aRedisErrorReplyIs409WithRedisMessage() {
        let key = uniqueKey("list")
        redis.command(["LPUSH", key, "x"])
        let response = harness.request("GET", "/cache/\(encoded(key))")
        #expect(response.status == 409)
        #expect((json(response)["error"] as? String)?.hasPrefix("WRONGTYPE") == true)
    }

    @Test(arguments: [
        ("PUT", "?ttl=0", ""), ("PUT", "?ttl=-5", ""), ("PUT", "?ttl=abc", ""), ("PUT", "?ttl=2147483648", ""), ("PUT", "?nx=maybe", ""),
        ("POST", "/expire", "not json"), ("POST", "/expire", #"{"seconds": "5"}"#), ("POST", "/expire", #"{"seconds": 0}"#),
        ("POST", "/expire", #"{"seconds": 2147483648}"#),
        ("POST", "/expire", #"{"secs": 5}"#),
    ])
    func malformedInputIs400WithAJSONError(_ method: String, _ suffix: String, _ body: String) {
        let key = uniqueKey("bad")
        redis.command(["SET", key, "keep"])
        let response = harness.request(method, "/cache/\(encoded(key))\(suffix)", text: body)
        #expect(response.status == 400)
        #expect(json(response)["error"] is String)
        #expect(redis.command(["GET", key]) == "keep", "bad input loses nothing")
    }

    @Test func keyBoundsAreEnforced() throws {
        let bounded = try GatewayHarness { $0.maxKeyBytes = 10 }
        #expect(bounded.request("GET", "/cache/").status == 400)
        #expect(bounded.request("PUT", "/cache/\(String(repeating: "k", count: 11))", text: "v").status == 400)
        #expect(bounded.request("GET", "/cache/\(String(repeating: "k", count: 10))").status == 404)
    }

    @Test func theLongestAllowedKeyFitsEvenFullyPercentEncoded() {
        let longest = String(repeating: "é", count: 512)  // 1024 bytes, 3072 characters encoded
        let path = "/cache/\(encoded(longest))"
        #expect(harness.request("PUT", path, text: "v").status == 201)
        #expect(harness.request("GET", path).status == 200)
        #expect(harness.request("DELETE", path).status == 204)
        #expect(harness.request("GET", "/cache/\(encoded(longest + "x"))").status == 400)
    }

    @Test func aBodyOverTheBoundIs413() throws {
        let bounded = try GatewayHarness { $0.http.maxBodyBytes = 100 }
        let key = uniqueKey("big")
        let response = bounded.request("PUT", "/cache/\(encoded(key))", body: [UInt8](repeating: 65, count: 101))
        #expect(response.status == 413)
        #expect(redis.command(["EXISTS", key]) == ":0")
    }

    @Test func unknownPathsAndMethodsAreRefused() {
        #expect(harness.request("GET", "/pool/nope").status == 404, "service prefixes are never commands")
        #expect(harness.request("GET", "/cache/a/b/c").status == 404)
        let unknownCommand = harness.request("GET", "/nope")
        #expect(unknownCommand.status == 400, "any other first segment is a Redis command; Redis refuses it")
        #expect(unknownCommand.text.contains("ERR unknown command"))
        let wrong = harness.request("PATCH", "/cache/x")
        #expect(wrong.status == 405)
        #expect(wrong.headers["allow"]?.contains("PUT") == true)
    }

    @Test func everyResponseCarriesARequestID() {
        let response = harness.request("GET", "/healthz", headers: [("X-Request-Id", "abc-123")])
        #expect(response.headers["x-request-id"] == "abc-123")
        #expect(harness.request("GET", "/healthz").headers["x-request-id"]?.isEmpty == false)
    }
}
