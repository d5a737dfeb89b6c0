import Foundation
import Testing

@testable import LoadTesting

@Suite struct LoadTargetTests {
    @Test func parsesLoopbackTargets() throws {
        let target = try LoadTarget(parsing: "http://localhost:8080")
        #expect(target.address == "127.0.0.1" && target.port == 8080)
        #expect(try LoadTarget(parsing: "http://127.0.0.2:9/ignored/path").port == 9)
    }

    @Test(arguments: ["http://10.0.0.1:80", "http://192.168.1.5:8080", "http://8.8.8.8:53"])
    func refusesRemoteHostsUnlessAllowed(_ text: String) throws {
        #expect(throws: LoadTestError.self) { try LoadTarget(parsing: text) }
        #expect(try LoadTarget(parsing: text, allowRemote: true).port > 0)
    }

    @Test(arguments: ["127.0.0.1:80", "https://127.0.0.1:443", "http://127.0.0.1", "http://example.com:80", "http://127.0.0.1:0"])
    func refusesMalformedTargets(_ text: String) {
        #expect(throws: LoadTestError.self) { try LoadTarget(parsing: text, allowRemote: true) }
    }
}

@Suite struct ResponseParserTests {
    @Test func findsACompleteResponse() throws {
        let raw = Array(
            "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\ncontent-length: 5\r\nSet-Cookie: sid=abc; HttpOnly\r\n\r\nhelloHTTP/1.1"
                .utf8)
        let response = try #require(try ResponseParser.parse(raw, headersWanted: true))
        #expect(response.status == 201)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello")
        #expect(response.length == raw.count - "HTTP/1.1".count)
        #expect(response.header("set-cookie") == "sid=abc; HttpOnly")
        #expect(!response.closes)
    }

    @Test func waitsForTheWholeBody() throws {
        #expect(try ResponseParser.parse(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8)) == nil)
        #expect(try ResponseParser.parse(Array("HTTP/1.1 200 OK\r\nContent-Len".utf8)) == nil)
    }

    @Test func seesConnectionClose() throws {
        let response = try #require(
            try ResponseParser.parse(Array("HTTP/1.1 503 Service Unavailable\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n".utf8)))
        #expect(response.status == 503 && response.closes)
    }

    @Test func refusesWhatIsNotHTTP() {
        #expect(throws: LoadTestError.self) { try ResponseParser.parse(Array("+PONG\r\n\r\n-ERR nope\r\n".utf8)) }
    }
}

@Suite struct SweepReportTests {
    let points = [
        PoolSweep.Point(mode: "pooled", poolSize: 1, connections: 50, requestsPerSecond: 5000, p50: 9, p99: 20, successRate: 1),
        PoolSweep.Point(mode: "pooled", poolSize: 4, connections: 50, requestsPerSecond: 19000, p50: 2, p99: 6, successRate: 1),
        PoolSweep.Point(mode: "pooled", poolSize: 16, connections: 50, requestsPerSecond: 19500, p50: 2, p99: 6, successRate: 1),
        PoolSweep.Point(mode: "per-request", poolSize: 50, connections: 50, requestsPerSecond: 3000, p50: 15, p99: 40, successRate: 1),
    ]

    @Test func recommendsTheSmallestPoolNearTheBestRate() {
        #expect(SweepReport.recommendation(points).contains("**4**"))
    }

    @Test func writesATableAndAChart() {
        let markdown = SweepReport.markdown(points, scenario: "mixed", chartFile: "chart.svg")
        #expect(markdown.contains("| per-request | 50 | 50 | 3000 |"))
        let svg = SweepReport.svg(points)
        #expect(svg.hasPrefix("<svg") && svg.contains("<polyline") && svg.contains("stroke-dasharray"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2, "one line per panel for the one concurrency level")
    }
}
