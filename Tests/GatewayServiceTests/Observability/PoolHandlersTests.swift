import ConnectionPool
import Foundation
import GatewayService
import HTTPServer
import RedisClient
import TestSupport
import Testing

/// /pool/stats, /metrics, /pool/health, /healthz and /readyz end to end.
@Suite struct PoolHandlersTests {
    @Test func statsJSONCountsBorrowsAndConnections() throws {
        let harness = try GatewayHarness()
        for _ in 0..<3 { _ = harness.request("GET", "/cache/\(encoded(uniqueKey()))") }
        let response = harness.request("GET", "/pool/stats")
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "application/json")
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect(stats["max"] as? Int == 4)
        #expect(stats["in_use"] as? Int == 0)
        #expect((stats["borrows"] as? Int ?? 0) >= 3)
        #expect((stats["connects"] as? Int ?? 0) >= 1)
        #expect((stats["open"] as? Int ?? 9) <= 4)
        for field in [
            "idle", "waiting", "wait_timeouts", "connect_failures", "discarded", "health_check_failures", "wait_time", "use_time",
        ] {
            #expect(stats[field] != nil, "missing \(field)")
        }
    }

    @Test func prometheusTextUsesTheOpenTelemetryNames() throws {
        let harness = try GatewayHarness()
        _ = harness.request("GET", "/cache/\(encoded(uniqueKey()))")
        let viaAccept = harness.request(
            "GET", "/pool/stats", headers: [("Accept", "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5")])
        let viaQuery = harness.request("GET", "/pool/stats?format=prometheus")
        let metrics = harness.request("GET", "/metrics")
        for response in [viaAccept, viaQuery, metrics] {
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/plain") == true)
        }
        let text = metrics.text
        let pool = "db_client_connection_pool_name=\"127.0.0.1:\(RedisServer.shared.port)/0\""
        #expect(text.contains("db_client_connection_usage{db_client_connection_state=\"idle\",\(pool)}"))
        #expect(text.contains("db_client_connection_usage{db_client_connection_state=\"used\",\(pool)} 0"))
        #expect(text.contains("db_client_connection_max{\(pool)} 4"))
        for name in [
            "db_client_connection_idle_min", "db_client_connection_pending_requests", "db_client_connection_timeouts_total",
            "db_client_connection_wait_time_seconds_bucket", "db_client_connection_use_time_seconds_count",
            "db_client_connection_create_time_seconds_sum", "db_client_connection_created_total",
            "db_client_connection_closed_total", "db_client_connection_connect_failures_total",
        ] {
            #expect(text.contains(name), "missing \(name)")
        }
        #expect(harness.request("GET", "/pool/stats?format=xml").status == 400)
    }

    @Test func healthEndpointsWhenRedisIsUp() throws {
        let harness = try GatewayHarness()
        #expect(harness.request("GET", "/healthz").status == 200)
        #expect(harness.request("GET", "/readyz").status == 200)
        let health = harness.request("GET", "/pool/health")
        #expect(health.status == 200)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(health.body)) as? [String: Any])
        #expect(body["status"] as? String == "ok")
        #expect(body["latency_ms"] is Double)
    }
}
