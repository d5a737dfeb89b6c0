import CoreUtilities
import Histogram

/// What a load run measured.
public struct LoadReport: Sendable {
    /// Requests that got a complete response or failed.
    public var requests = 0
    /// Requests answered with a 2xx status.
    public var successes = 0
    /// Failed requests by kind: `status 503`, `timeout`, `connection reset`, ...
    public var failures: [String: Int] = [:]
    /// Wall-clock time from the first request to the last response.
    public var elapsed: Duration = .zero
    /// Latency of every completed request, in microseconds.
    public var latency = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)

    /// Successes over requests, 0...1.
    public var successRate: Double { requests == 0 ? 0 : Double(successes) / Double(requests) }
    /// Completed requests per second.
    public var requestsPerSecond: Double {
        let seconds = elapsed.secondsDouble
        return seconds > 0 ? Double(requests) / seconds : 0
    }

    /// The latency at `percentile` (0...100) in milliseconds.
    public func latencyMilliseconds(_ percentile: Double) -> Double {
        Double(latency.valueAtPercentile(percentile)) / 1000
    }

    mutating func merge(_ other: LoadReport) {
        requests += other.requests
        successes += other.successes
        for (kind, count) in other.failures { failures[kind, default: 0] += count }
        latency.add(other.latency)
    }

    /// A human-readable summary.
    public func summary(title: String) -> String {
        var lines = [title]
        lines.append("  requests      \(requests) in \(format(elapsed.secondsDouble, 2)) s")
        lines.append("  successes     \(successes) (\(format(successRate * 100, 2)) %)")
        for (kind, count) in failures.sorted(by: { $0.key < $1.key }) { lines.append("  failed        \(count) \(kind)") }
        lines.append("  requests/s    \(format(requestsPerSecond, 1))")
        lines.append(
            "  latency ms    p50 \(format(latencyMilliseconds(50), 3))  p90 \(format(latencyMilliseconds(90), 3))  "
                + "p99 \(format(latencyMilliseconds(99), 3))  p99.9 \(format(latencyMilliseconds(99.9), 3))  "
                + "max \(format(Double(latency.max) / 1000, 3))")
        return lines.joined(separator: "\n")
    }

    /// The report as a JSON object.
    public func json(scenario: String, connections: Int) -> String {
        let failureFields = failures.sorted(by: { $0.key < $1.key }).map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        return """
            {"scenario":"\(scenario)","connections":\(connections),"requests":\(requests),"successes":\(successes),\
            "failures":{\(failureFields)},"success_rate":\(successRate),"elapsed_seconds":\(elapsed.secondsDouble),\
            "requests_per_second":\(requestsPerSecond),"latency_ms":{"p50":\(latencyMilliseconds(50)),\
            "p90":\(latencyMilliseconds(90)),"p99":\(latencyMilliseconds(99)),"p99_9":\(latencyMilliseconds(99.9)),\
            "max":\(Double(latency.max) / 1000)}}
            """
    }
}

/// `value` with `digits` decimals.
func format(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    if digits == 0 { return String(Int(rounded)) }
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}
