import Foundation
import GatewayService
import HTTPServer
import TestSupport
import Testing

/// What the pool's protections did, as an SRE scrapes it: connections refused over the limit and
/// requests closed for arriving too slowly, in `/pool/stats` (`protection`) and `/metrics`.
@Suite struct ProtectionMetricsTests {
    func protection(_ harness: GatewayHarness) -> [String: Int] {
        let body = harness.request("GET", "/pool/stats").body
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        return json?["protection"] as? [String: Int] ?? [:]
    }

    @Test func refusedConnectionsAndSlowRequestsAreCounted() throws {
        let harness = try GatewayHarness {
            $0.http.connectionLimit = 2
            $0.http.requestTimeoutMilliseconds = 300
        }
        #expect(protection(harness) == ["connections_refused": 0, "requests_timed_out": 0, "scripts_killed": 0])
        // A request line and then nothing: answered 408 at the request timeout.
        let slow = try #require(BlockingSocket(port: harness.gateway.port, timeoutSeconds: 5))
        #expect(slow.write(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n".utf8)))
        #expect(String(decoding: slow.readToEnd(), as: UTF8.self).hasPrefix("HTTP/1.1 408"))
        // Connections held open until one is refused by the accepting thread: at most 2 are
        // admitted (the slow one's close may still be counted, so which connect is refused varies).
        var held: [BlockingSocket] = []
        var refused = false
        for _ in 0..<10 where !refused {
            guard let socket = BlockingSocket(port: harness.gateway.port, timeoutSeconds: 5) else { continue }
            if socket.becomesReadable(within: 500) {
                refused = String(decoding: socket.read(), as: UTF8.self).hasPrefix("HTTP/1.1 503")
            } else {
                held.append(socket)
            }
        }
        #expect(refused, "no connect was refused with \(held.count) held")
        held.removeAll()
        #expect(eventually { protection(harness)["connections_refused"] ?? 0 >= 1 })
        #expect(protection(harness)["requests_timed_out"] == 1)
        let metrics = harness.request("GET", "/metrics").text
        #expect(metrics.contains("gateway_http_requests_timed_out_total 1"), "\(metrics.prefix(300))")
        #expect(metrics.contains("gateway_http_connections_refused_total"))
    }
}
