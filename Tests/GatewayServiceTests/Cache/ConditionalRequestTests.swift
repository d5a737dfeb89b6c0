import Dispatch
import GatewayService
import Synchronization
import TestSupport
import Testing

/// Validators on `/cache/{key}`: ETag, 304 for `If-None-Match`, 412 for `If-Match`, HEAD.
@Suite struct ConditionalRequestTests {
    let harness: GatewayHarness
    let redis = RedisServer.shared

    init() throws {
        harness = try GatewayHarness()
    }

    private func put(_ path: String, _ text: String, headers: [(String, String)] = []) -> TestResponse {
        harness.request("PUT", path, text: text, headers: headers)
    }

    @Test func theTagIsTheValuesSHA1AsRedisComputesItInEveryGateway() throws {
        let key = uniqueKey("etag")
        let path = "/cache/\(key)"
        #expect(put(path, "hello").headers["etag"] == #""aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d""#)
        let first = harness.request("GET", path)
        let other = try GatewayHarness()
        let second = other.request("GET", path, headers: [("Accept", "application/octet-stream")])
        #expect(first.headers["etag"] == #""aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d""#)
        #expect(second.headers["etag"] == first.headers["etag"])
        #expect(
            redis.command(["EVAL", "return redis.sha1hex(redis.call('GET', KEYS[1]))", "1", key]).map { "\"\($0)\"" }
                == first.headers["etag"])
        #expect(first.headers["vary"]?.contains("Accept") == true)
    }

    @Test func ifNoneMatchGives304WithoutABodyUntilTheValueChanges() throws {
        let path = "/cache/\(uniqueKey("inm"))"
        _ = put(path, String(repeating: "x", count: 100_000))
        let tag = try #require(harness.request("GET", path).headers["etag"])
        for header in [tag, "W/\(tag)", #""other", \#(tag)"#, "*"] {
            let revalidated = harness.request("GET", path, headers: [("If-None-Match", header)])
            #expect(revalidated.status == 304, "\(header)")
            #expect(revalidated.body.isEmpty)
            #expect(revalidated.headers["etag"] == tag)
        }
        #expect(harness.request("GET", path, headers: [("If-None-Match", #""other""#)]).status == 200)
        _ = put(path, "changed")
        let changed = harness.request("GET", path, headers: [("If-None-Match", tag)])
        #expect(changed.status == 200)
        #expect(changed.headers["etag"] != tag)
    }

    @Test func ifMatchWritesOnlyOverTheValueItNames() throws {
        let key = uniqueKey("im")
        let path = "/cache/\(key)"
        #expect(put(path, "v1", headers: [("If-Match", "*")]).status == 412)  // absent
        #expect(redis.command(["EXISTS", key]) == ":0")
        let tag = try #require(put(path, "v1").headers["etag"])
        let written = put(path, "v2", headers: [("If-Match", tag)])
        #expect(written.status == 200)
        #expect(written.headers["etag"] == harness.request("GET", path).headers["etag"])
        #expect(put(path, "v3", headers: [("If-Match", tag)]).status == 412)  // v1's tag, v2 stored
        #expect(redis.command(["GET", key]) == "v2")
        #expect(put(path, "v3", headers: [("If-Match", "W/\(tag)")]).status == 412)  // weak never matches strongly
        #expect(put(path, "v3", headers: [("If-Match", "*")]).status == 200)
        #expect(put(path, "v4", headers: [("If-Match", "not-a-tag")]).status == 412)
        #expect(put(path, "v4", headers: [("If-Match", "*")]).status == 200)
        #expect(harness.request("PUT", path + "?nx=1", text: "v5", headers: [("If-Match", "*")]).status == 412)
        let withTTL = harness.request("PUT", path + "?ttl=100", text: "v6", headers: [("If-Match", "*")])
        #expect(withTTL.status == 200)
        #expect(Int(redis.command(["TTL", key])?.dropFirst() ?? "") ?? 0 > 90)
    }

    @Test func ofTwoWritersWithTheSameIfMatchExactlyOneWins() throws {
        let key = uniqueKey("race")
        let path = "/cache/\(key)"
        for round in 0..<50 {
            let tag = try #require(put(path, "base-\(round)").headers["etag"])
            let statuses = Mutex<[Int]>([])
            let clients = [HTTPTestClient(port: harness.gateway.port), HTTPTestClient(port: harness.gateway.port)]
            DispatchQueue.concurrentPerform(iterations: 2) { writer in
                let status = clients[writer].request("PUT", path, text: "writer-\(writer)", headers: [("If-Match", tag)])?.status ?? -1
                statuses.withLock { $0.append(status) }
            }
            #expect(statuses.withLock { $0.sorted() } == [200, 412], "round \(round)")
        }
    }

    @Test func headAnswersTheGetsHeadersWithoutTheBody() throws {
        let path = "/cache/\(uniqueKey("head"))"
        _ = put(path, "some value")
        let get = harness.request("GET", path)
        let head = harness.request("HEAD", path)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.headers["etag"] == get.headers["etag"])
        #expect(head.headers["content-length"] == String(get.body.count))
        #expect(harness.request("HEAD", "/cache/\(uniqueKey("absent"))").status == 404)
    }
}
