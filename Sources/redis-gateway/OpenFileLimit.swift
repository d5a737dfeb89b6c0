import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Every client connection (and every event stream) is a descriptor: the soft open-files limit
/// (often 1024) is raised towards the hard one so `GATEWAY_CONNECTION_LIMIT` can be reached.
enum OpenFileLimit {
    /// Raises the soft limit to `wanted` (at most the hard limit); warns when the hard limit is lower.
    static func raise(toFit wanted: Int, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < rlim_t(wanted) {
            limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        if limit.rlim_cur < rlim_t(wanted) {
            logger.warning(
                "the open-files limit is below what the connection limits need; raise it (ulimit -n, --ulimit nofile=)",
                metadata: ["limit": "\(limit.rlim_cur)", "needed": "\(wanted)"])
        }
    }
}
