import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Free TCP ports on 127.0.0.1, for servers that tests and benchmarks start.
///
/// The ports come from below the kernel's ephemeral range (`net.ipv4.ip_local_port_range`): a port
/// the kernel handed out for `bind(0)` is one it may hand to the next outgoing connection as well,
/// and under a load of thousands of connections one did take a test server's port before the server
/// bound it. Below that range only servers bind, and this process never hands out a port twice.
public enum LoopbackPort {
    /// The lowest port handed out.
    static let lowest = 10_000

    private static let handedOut = Mutex<Set<Int>>([])

    /// A port that is free now, below the ephemeral range and not handed out before by this
    /// process; nil if none could be had.
    public static func free() -> Int? {
        let candidates = lowest..<max(lowest + 1_000, ephemeralRangeStart())
        for _ in 0..<200 {
            let port = Int.random(in: candidates)
            let claimed = handedOut.withLock { $0.insert(port).inserted }
            if claimed && isFree(port) { return port }
        }
        return nil
    }

    /// Where the kernel's ephemeral ports start (32768 when the setting cannot be read).
    static func ephemeralRangeStart() -> Int {
        guard let file = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r") else { return 32_768 }
        defer { fclose(file) }
        var low: Int32 = 0
        var high: Int32 = 0
        return withUnsafeMutablePointer(to: &low) { lowPointer in
            withUnsafeMutablePointer(to: &high) { highPointer in
                withVaList([lowPointer, highPointer]) { vfscanf(file, "%d %d", $0) == 2 }
            }
        } ? Int(low) : 32_768
    }

    /// Whether `port` can be bound on 127.0.0.1 now (no listener, no connection lingering on it).
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
