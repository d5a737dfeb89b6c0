import Foundation

/// One reading of the gateway during the soak (every 10 s): memory, threads, open files, the
/// pool, and what the callers did since the last reading.
public struct SoakSample: Sendable {
    /// Seconds since the soak began.
    public var at: Double
    public var residentKiB = 0
    public var proportionalKiB = 0
    public var threads = 0
    public var openFiles = 0
    /// `/pool/stats`: connections open, idle and leased to requests (-1: the gateway did not answer).
    public var poolOpen = -1
    public var poolIdle = -1
    public var leasesInUse = -1
    /// `/pool/stats`: event streams the gateway holds open.
    public var streams = -1
    /// Requests per second and non-2xx per second since the previous reading.
    public var requestsPerSecond = 0.0
    public var failuresPerSecond = 0.0

    static let csvHeader =
        "seconds,rss_kib,pss_kib,threads,open_files,pool_open,pool_idle,leases_in_use,streams,requests_per_s,failures_per_s"

    var csv: String {
        "\(String(format: "%.1f", at)),\(residentKiB),\(proportionalKiB),\(threads),\(openFiles),\(poolOpen),\(poolIdle),\(leasesInUse),\(streams),"
            + "\(String(format: "%.1f", requestsPerSecond)),\(String(format: "%.2f", failuresPerSecond))"
    }

    /// Whether threads and the files that are not pool connections are back to `baseline`'s (two
    /// files of slack: a connection the previous reading opened may not be closed yet).
    func isBack(to baseline: SoakSample) -> Bool {
        threads <= baseline.threads && openFiles - max(poolOpen, 0) <= baseline.openFiles - max(baseline.poolOpen, 0) + 2
    }

    /// Reads `/proc/<pid>` (RSS and PSS from `smaps_rollup`, threads, entries of `fd/`) and the
    /// pool's JSON statistics at `statsTarget`.
    static func read(pid: Int32, at: Double, statsTarget: LoadTarget) -> SoakSample {
        var sample = SoakSample(at: at)
        let usage = ProcessUsage(pid: pid).sample()
        sample.threads = usage.threads
        if let rollup = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) {
            for line in rollup.split(separator: "\n") {
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard parts.count > 1, let kib = Int(parts[1]) else { continue }
                if parts[0] == "Rss:" { sample.residentKiB = kib }
                if parts[0] == "Pss:" { sample.proportionalKiB = kib }
            }
        }
        sample.openFiles = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
        let client = BlockingHTTPClient(target: statsTarget, timeout: .seconds(5))
        if case .answered(200, _, let body) = client.exchange("GET", "/pool/stats"),
            let stats = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        {
            sample.poolOpen = stats["open"] as? Int ?? -1
            sample.poolIdle = stats["idle"] as? Int ?? -1
            sample.leasesInUse = stats["leases_in_use"] as? Int ?? -1
            sample.streams = (stats["pubsub"] as? [String: Any])?["subscribers"] as? Int ?? -1
        }
        return sample
    }
}
