import ConnectionPool
import GatewayService
import Logging
import Synchronization
import TestSupport
import Testing

/// The pool's rare events reach the log with what an operator needs: a held connection names its route.
@Suite struct PoolEventLoggingTests {
    @Test func aConnectionHeldTooLongIsLoggedOnceWithItsRouteAndCounted() throws {
        let records = LogRecords()
        let logger = Logger(label: "leak-test") { _ in records }
        let harness = try GatewayHarness(logger: logger) {
            $0.pool.leakDetectionThreshold = .milliseconds(100)
            $0.pool.maintenanceInterval = .milliseconds(10)
        }
        defer { harness.gateway.shutdown() }
        let held = harness.request("POST", "/", text: #"["BLPOP","\#(uniqueKey("leak"))","0.4"]"#)
        #expect(held.status == 200 && held.text == #"{"result":null}"#)
        let warnings = records.messages.withLock { $0 }.filter { $0.contains("leak-detection threshold") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("route=POST /") == true, "\(warnings)")
        #expect(harness.gateway.pool!.statistics.leaksDetected == 1)
        #expect(harness.request("GET", "/metrics").text.contains("redis_gateway_pool_leaks_detected_total{"))
    }
}

/// A log handler that keeps every message with its metadata, for assertions.
final class LogRecords: LogHandler, @unchecked Sendable {
    let messages = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        messages.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
    }
}
