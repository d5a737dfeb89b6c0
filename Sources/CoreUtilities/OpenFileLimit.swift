#if canImport(Glibc)
    import Glibc
#endif

/// The process's limit on open files: every client connection, event stream and Redis connection
/// is one, and the soft limit is often only 1024.
public enum OpenFileLimit {
    /// Raises the soft limit towards `wanted` (never past the hard limit, never lowers it) and
    /// returns the soft limit in force afterwards.
    @discardableResult
    public static func raise(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < rlim_t(wanted) {
            var raised = limit
            raised.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }
}
