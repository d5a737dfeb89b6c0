import Foundation
import GatewayService
import HTTPServer
import RedisClient
import TestSupport
import Testing

/// `GATEWAY_MAX_REPLY_BYTES` per request, end to end on a real Redis: a batch's replies share it,
/// and a JSON body may be at most twice it, however much escaping would grow it.
@Suite struct ResponseBudgetTests {
    let harness: GatewayHarness
    let redis = RedisServer.shared
    let auth = [("Authorization", "Bearer budget-token")]
    static let budget = 1 << 20

    init() throws {
        harness = try GatewayHarness {
            $0.auth.tokens = ["budget-token"]
            $0.redis.maxReplyBytes = Self.budget
        }
    }

    func post(_ path: String, _ body: String, headers: [(String, String)] = []) -> TestResponse {
        harness.request("POST", path, text: body, headers: auth + headers)
    }

    /// The review's `/pipeline` of 50 GETs of one large value: each reply fits, all of them do not.
    @Test func aBatchsRepliesShareOneBudget() {
        let key = uniqueKey("budget-batch")
        redis.command(["SET", key, String(repeating: "v", count: 100 * 1024)])
        defer { redis.command(["DEL", key]) }
        let gets = { (count: Int) in "[" + Array(repeating: #"["GET","\#(key)"]"#, count: count).joined(separator: ",") + "]" }
        #expect(post("/pipeline", gets(5)).status == 200)
        let over = post("/pipeline", gets(20))
        #expect(over.status == 413)
        #expect(over.text.contains("reply budget"), "\(over.text.prefix(200))")
        // The connection that read half a reply was closed; the pool still serves.
        #expect(post("/", #"["GET","\#(key)"]"#).status == 200)
    }

    /// Control bytes grow six times in JSON (`\u0001`): the body is measured before it is built.
    @Test func aJSONBodyMayNotPassTwiceTheBudget() throws {
        let key = uniqueKey("budget-escape")
        let value = String(repeating: "\u{01}", count: 400 * 1024)  // 400 KiB read, 2.4 MB as JSON text
        #expect(post("/set/\(key)", value).status == 200)
        defer { redis.command(["DEL", key]) }

        let text = post("/", #"["GET","\#(key)"]"#)
        #expect(text.status == 413)
        #expect(text.text.contains("base64"), "\(text.text.prefix(200))")
        let pipelined = post("/pipeline", #"[["GET","\#(key)"]]"#)
        #expect(pipelined.status == 413)

        let base64 = post("/", #"["GET","\#(key)"]"#, headers: [("Upstash-Encoding", "base64")])
        #expect(base64.status == 200)
        #expect(base64.body.count < 2 * Self.budget)
        let raw = post("/", #"["GET","\#(key)"]"#, headers: [("Upstash-Response-Format", "resp2")])
        #expect(raw.status == 200)
        #expect(raw.body.count == 400 * 1024 + 11)  // $409600\r\n … \r\n

        let cache = harness.request("GET", "/cache/\(key)", headers: auth)
        #expect(cache.status == 413)
        #expect(cache.text.contains("octet-stream"))
        let bytes = harness.request("GET", "/cache/\(key)", headers: auth + [("Accept", "application/octet-stream")])
        #expect(bytes.status == 200)
        #expect(bytes.body.count == 400 * 1024)
    }

    /// The budget is the callers'; the gateway's own reads of what Redis is (`COMMAND`, some
    /// hundred kilobytes) are not bound by it, so even the smallest budget leaves it working.
    @Test func theGatewaysOwnReadsAreNotBoundByTheBudget() throws {
        let small = try GatewayHarness {
            $0.auth.tokens = ["budget-token"]
            $0.redis.maxReplyBytes = 4096
        }
        let ping = small.request("POST", "/", text: #"["PING"]"#, headers: auth)
        #expect(ping.text == #"{"result":"PONG"}"#, "\(ping.text)")
        #expect(small.request("POST", "/", text: #"["COMMAND"]"#, headers: auth).status == 413, "a caller's COMMAND is bound")
    }
}
