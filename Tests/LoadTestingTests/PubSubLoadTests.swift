import Foundation
import GatewayService
import HTTPServer
import LoadTesting
import Logging
import RedisClient
import TestSupport
import Testing

@testable import LoadTesting

/// The pub/sub load client: its stream decoder, and a short run against a real gateway that must
/// account for every delivery.
@Suite struct PubSubLoadTests {
    @Test func theDecoderFindsEventsWhereverChunksAndReadsSplit() {
        let events = "data: subscribe,c,1\n\ndata: message,c,1:0:pp\n\n: heartbeat\n\ndata: message,c,2\ndata: second line\n\n"
        let body = Array(events.utf8)
        // Chunks of 7 bytes, then the last chunk.
        var wire = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for start in stride(from: 0, to: body.count, by: 7) {
            let chunk = body[start..<min(start + 7, body.count)]
            wire += Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10]
        }
        wire += Array("0\r\n\r\n".utf8)
        let expected = events.components(separatedBy: "\n\n").dropLast().map { Array($0.utf8) }
        for readSize in [1, 5, 64, wire.count] {
            var decoder = EventStreamDecoder()
            var decoded: [[UInt8]] = []
            for start in stride(from: 0, to: wire.count, by: readSize) {
                decoded += decoder.feed(Array(wire[start..<min(start + readSize, wire.count)]))
            }
            #expect(decoded == expected, "reads of \(readSize) bytes")
            #expect(decoder.status == 200 && decoder.ended)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aShortRunAccountsForEveryDelivery() throws {
        var configuration = GatewayConfiguration()
        configuration.redis.url = try RedisURL(parsing: RedisServer.shared.url)
        configuration.http.port = 0
        configuration.session.databasePath =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("pubsub-load-\(UUID().uuidString).sqlite").path
        let gateway = try Gateway(configuration: configuration, logger: Logger(label: "pubsub-load-test"))
        defer { gateway.shutdown() }
        var load = PubSubLoad.Configuration(target: try LoadTarget(parsing: "http://127.0.0.1:\(gateway.port)"))
        load.subscribers = 50
        load.rate = 100
        load.duration = .seconds(1)
        load.channel = uniqueKey("load")
        load.settle = .milliseconds(500)
        let report = try PubSubLoad(configuration: load).run()
        #expect(report.published == 100)
        #expect(report.expected == 5000)
        #expect(report.received == 5000 && report.lost == 0)
        #expect(report.dropped == 0 && report.gaps == 0 && report.closed == 0 && report.malformed == 0)
        #expect(report.latencyMilliseconds(50) > 0)
    }
}
