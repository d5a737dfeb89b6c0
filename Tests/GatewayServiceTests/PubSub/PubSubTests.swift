import Foundation
import GatewayService
import HTTPServer
import RedisClient
import Synchronization
import TestSupport
import Testing

/// Event streams against a real Redis: the exact Upstash event format, fan-out over one Redis
/// subscription, unsubscribe when the last client leaves, slow consumers dropped, gaps across a
/// Redis restart, shutdown and bounds. (No thread per stream, and SIGTERM: `PubSubProcessTests`.)
@Suite struct PubSubTests {
    func subscribe(_ harness: GatewayHarness, _ path: String, headers: [(String, String)] = [], receiveBufferBytes: Int? = nil)
        -> EventStreamClient
    {
        guard
            let client = EventStreamClient(
                port: harness.gateway.port, target: path, headers: headers, receiveBufferBytes: receiveBufferBytes)
        else {
            Issue.record("cannot connect")
            preconditionFailure()
        }
        return client
    }

    /// `PUBSUB NUMSUB channel` in Redis: its subscriber count as `:n`.
    func numsub(_ server: RedisServer, _ channel: String) -> String? {
        server.command(["EVAL", "return redis.call('PUBSUB', 'NUMSUB', KEYS[1])[2]", "1", channel])
    }

    @Test func channelsDeliverEventsInUpstashFormat() throws {
        let harness = try GatewayHarness()
        let news = uniqueKey("news"), sport = uniqueKey("sport")
        let stream = subscribe(harness, "/subscribe/\(news)/\(sport)")
        #expect(stream.readHead() == 200)
        #expect(stream.headers["content-type"] == "text/event-stream")
        #expect(stream.headers["transfer-encoding"] == "chunked")
        #expect(stream.next() == "data: subscribe,\(news),1")
        #expect(stream.next() == "data: subscribe,\(sport),2")
        #expect(harness.request("POST", "/publish/\(news)/hello").text == #"{"result":1}"#)
        #expect(harness.request("POST", "/", text: #"["PUBLISH","\#(sport)","a,b with commas"]"#).status == 200)
        #expect(stream.next() == "data: message,\(news),hello")
        #expect(stream.next() == "data: message,\(sport),a,b with commas")
        let metrics = harness.request("GET", "/metrics").text
        #expect(metrics.contains("gateway_pubsub_subscribers 1") && metrics.contains("gateway_pubsub_channels 2"))
        #expect(metrics.contains("gateway_pubsub_messages_delivered_total 2"))
    }

    @Test func patternsDeliverPatternMessages() throws {
        let harness = try GatewayHarness()
        let prefix = uniqueKey("p")
        let stream = subscribe(harness, "/psubscribe/\(prefix).*")
        #expect(stream.next() == "data: psubscribe,\(prefix).*,1")
        #expect(harness.request("POST", "/", text: #"["PUBLISH","\#(prefix).x","one"]"#).status == 200)
        #expect(stream.next() == "data: pmessage,\(prefix).*,\(prefix).x,one")
    }

    @Test func aPayloadWithLineBreaksSpansDataLinesAndBase64KeepsExactBytes() throws {
        let harness = try GatewayHarness()
        let channel = uniqueKey("lines")
        let plain = subscribe(harness, "/subscribe/\(channel)")
        let encoded = subscribe(harness, "/subscribe/\(channel)", headers: [("Upstash-Encoding", "base64")])
        #expect(plain.next() == "data: subscribe,\(channel),1")
        let encodedChannel = Data(channel.utf8).base64EncodedString()
        #expect(encoded.next() == "data: subscribe,\(encodedChannel),1")
        #expect(harness.request("POST", "/", text: #"["PUBLISH","\#(channel)","a\nb\r\nc"]"#).status == 200)
        #expect(plain.next() == "data: message,\(channel),a\ndata: b\ndata: c")
        #expect(encoded.next() == "data: message,\(encodedChannel),\(Data("a\nb\r\nc".utf8).base64EncodedString())")
    }

    @Test func manyStreamsShareOneRedisSubscriptionUntilTheLastLeaves() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url) { $0.pubsub.heartbeat = .seconds(1) }
        var streams = (0..<50).map { _ in subscribe(harness, "/subscribe/shared") }
        for stream in streams { #expect(stream.next() == "data: subscribe,shared,1") }
        #expect(numsub(server, "shared")?.hasSuffix(":1") == true, "one Redis subscription for 50 streams")
        #expect(harness.request("POST", "/publish/shared/all").text == #"{"result":1}"#)
        for stream in streams { #expect(stream.next() == "data: message,shared,all") }
        #expect(harness.request("GET", "/pool/stats").text.contains(#""subscribers":50,"channels":1"#))
        streams.removeLast(49)
        #expect(numsub(server, "shared")?.hasSuffix(":1") == true, "still one listener")
        streams.removeAll()
        // A vanished client is found at the next write (a heartbeat at the latest), then unsubscribed.
        #expect(eventually(within: .seconds(5)) { numsub(server, "shared")?.hasSuffix(":0") == true })
        #expect(eventually { harness.request("GET", "/pool/stats").text.contains(#""subscribers":0,"channels":0"#) })
    }

    @Test func aSlowConsumerIsDroppedWhileOthersReceiveEverything() throws {
        let harness = try GatewayHarness()  // 256 KiB allowance per stream
        let channel = uniqueKey("firehose")
        let fast = subscribe(harness, "/subscribe/\(channel)")
        let slow = subscribe(harness, "/subscribe/\(channel)", receiveBufferBytes: 4096)  // never reads until the end
        #expect(fast.next() == "data: subscribe,\(channel),1")
        #expect(slow.next() == "data: subscribe,\(channel),1")
        let payload = String(repeating: "x", count: 8 * 1024)
        // 100 batches of 20 × 8 KiB = 16 MB: far beyond the slow client's socket buffers and its
        // allowance, while the fast one reads each batch before the next is published.
        var received = 0
        for batch in 0..<100 {
            let commands = (0..<20).map { #"["PUBLISH","\#(channel)","\#(batch * 20 + $0):\#(payload)"]"# }
            #expect(harness.request("POST", "/pipeline", text: "[" + commands.joined(separator: ",") + "]").status == 200)
            for _ in 0..<20 {
                guard let event = fast.next(where: { !$0.hasPrefix(":") }) else { break }
                if event == "data: message,\(channel),\(received):\(payload)" { received += 1 }
            }
        }
        #expect(received == 2000, "the fast consumer received every message, in order")
        let slowEvents = slow.remaining()
        #expect(slowEvents.last?.hasPrefix("event: dropped\ndata: dropped,") == true)
        #expect(slowEvents.count < 2000, "the slow consumer was cut off")
        #expect(harness.request("GET", "/pool/stats").text.contains(#""subscribers_dropped":1"#))
    }

    /// The review's case: one message larger than the buffer dropped every subscriber of its
    /// channel, fast readers too. Now each gets a `skipped` notice in its place and stays.
    @Test func aMessageLargerThanTheBufferIsSkippedAndNoStreamIsDropped() throws {
        let harness = try GatewayHarness { $0.pubsub.bufferBytes = 16 * 1024 }
        let channel = uniqueKey("huge")
        let streams = (0..<3).map { _ in subscribe(harness, "/subscribe/\(channel)") }
        for stream in streams { #expect(stream.next() == "data: subscribe,\(channel),1") }
        let huge = String(repeating: "h", count: 64 * 1024)
        #expect(harness.request("POST", "/", text: #"["PUBLISH","\#(channel)","\#(huge)"]"#).text == #"{"result":1}"#)
        #expect(harness.request("POST", "/publish/\(channel)/after").status == 200)
        for stream in streams {
            let notice = stream.next()
            #expect(notice?.hasPrefix("event: skipped\ndata: skipped,\(channel),a message of ") == true, "\(notice?.prefix(120) ?? "nil")")
            #expect(stream.next() == "data: message,\(channel),after", "the stream goes on")
        }
        let stats = harness.request("GET", "/pool/stats").text
        #expect(stats.contains(#""subscribers_dropped":0"#) && stats.contains(#""messages_skipped":1"#), "\(stats)")
    }

    /// A message larger than the reply budget is read through unbuilt on the shared subscription
    /// connection: every stream gets a `skipped` notice, and the link is never lost (no `gap` for
    /// everyone, which a publisher could otherwise cause at will).
    @Test func aMessageLargerThanTheReplyBudgetIsSkippedAndTheLinkStays() throws {
        let harness = try GatewayHarness {
            $0.redis.maxReplyBytes = 64 * 1024
            $0.pubsub.bufferBytes = 1 << 20
        }
        let channel = uniqueKey("over-budget")
        let stream = subscribe(harness, "/subscribe/\(channel)")
        #expect(stream.next() == "data: subscribe,\(channel),1")
        let huge = String(repeating: "h", count: 200 * 1024)
        #expect(harness.request("POST", "/", text: #"["PUBLISH","\#(channel)","\#(huge)"]"#).text == #"{"result":1}"#)
        #expect(harness.request("POST", "/publish/\(channel)/after").status == 200)
        let notice = stream.next()
        #expect(
            notice?.hasPrefix("event: skipped\ndata: skipped,\(channel),a message larger than the gateway's reply budget") == true,
            "\(notice ?? "nil")")
        #expect(stream.next() == "data: message,\(channel),after")
        #expect(harness.request("GET", "/pool/stats").text.contains(#""resubscriptions":0"#))
    }

    @Test func aRedisRestartIsAGapThenMessagesFlowAgain() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url)
        let stream = subscribe(harness, "/subscribe/events")
        #expect(stream.next() == "data: subscribe,events,1")
        server.restart()
        #expect(stream.next()?.hasPrefix("event: gap\ndata: gap,") == true)
        #expect(stream.next(where: { !$0.hasPrefix(":") })?.hasPrefix("event: resubscribed\n") == true)
        #expect(numsub(server, "events")?.hasSuffix(":1") == true)
        _ = server.command(["PUBLISH", "events", "after"])
        #expect(stream.next(where: { !$0.hasPrefix(":") }) == "data: message,events,after")
        #expect(harness.request("GET", "/pool/stats").text.contains(#""resubscriptions":1"#))
    }

    @Test func shutdownEndsEveryStreamWithAFinalEvent() throws {
        let harness = try GatewayHarness()
        let stream = subscribe(harness, "/subscribe/\(uniqueKey("bye"))")
        #expect(stream.next()?.hasPrefix("data: subscribe,") == true)
        let clock = ContinuousClock()
        let start = clock.now
        harness.gateway.shutdown()
        #expect(clock.now - start < .seconds(2), "open streams do not hold the drain")
        #expect(stream.remaining() == ["event: shutdown\ndata: shutdown,the gateway is shutting down; reconnect to subscribe again"])
        #expect(stream.ended)
    }

    @Test func theCapAndThePolicyRefuseWithJSON() throws {
        let harness = try GatewayHarness {
            $0.pubsub.maxSubscribers = 1
            $0.commandPolicy.denied.insert("PSUBSCRIBE")
        }
        let first = subscribe(harness, "/subscribe/capped")
        #expect(first.next() == "data: subscribe,capped,1")
        let second = subscribe(harness, "/subscribe/capped")
        #expect(second.readHead() == 503)
        #expect(String(decoding: second.errorBody, as: UTF8.self).contains(#""error":"too many subscribers"#))
        let refused = subscribe(harness, "/psubscribe/any*")
        #expect(refused.readHead() == 403)
        #expect(String(decoding: refused.errorBody, as: UTF8.self).contains("NOPERM PSUBSCRIBE"))
        #expect(harness.request("GET", "/subscribe").status == 404)
        #expect(harness.request("POST", "/subscribe/a", text: "[]").status == 503, "the SDK's POST counts against the cap too")
    }

    @Test func readOnlyTokensMaySubscribeAndTokensAreChecked() throws {
        let harness = try GatewayHarness {
            $0.auth.tokens = ["full"]
            $0.auth.readOnlyTokens = ["reader"]
        }
        let anonymous = subscribe(harness, "/subscribe/secret")
        #expect(anonymous.readHead() == 401)
        let reader = subscribe(harness, "/subscribe/secret", headers: [("Authorization", "Bearer reader")])
        #expect(reader.next() == "data: subscribe,secret,1")
    }
}
