import Foundation

/// CPU time, resident memory and threads of another process on this machine, from `/proc`.
public struct ProcessUsage: Sendable {
    /// One reading.
    public struct Sample: Sendable {
        /// User plus system CPU seconds so far.
        public let cpuSeconds: Double
        /// Resident set size, KiB.
        public let residentKiB: Int
        /// Threads now.
        public let threads: Int
    }

    let pid: Int32

    public init(pid: Int32) {
        self.pid = pid
    }

    /// Reads `/proc/<pid>/stat` and `/proc/<pid>/status` now; zeros when the process is gone.
    public func sample() -> Sample {
        var cpu = 0.0
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                cpu = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        var resident = 0
        var threads = 0
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
            for line in status.split(separator: "\n") {
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if line.hasPrefix("VmRSS:"), parts.count > 1 { resident = Int(parts[1]) ?? 0 }
                if line.hasPrefix("Threads:"), parts.count > 1 { threads = Int(parts[1]) ?? 0 }
            }
        }
        return Sample(cpuSeconds: cpu, residentKiB: resident, threads: threads)
    }
}
