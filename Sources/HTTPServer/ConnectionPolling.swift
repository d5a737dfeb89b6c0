/// How each worker thread waits for its client connections.
///
/// A request answered later (suspended while Redis replies) costs libmicrohttpd two `epoll_ctl`
/// calls under epoll: it takes the connection out of its epoll set and puts it back on resume.
/// Under poll it costs nothing extra, but every wake-up passes over every open connection of the
/// thread. Few, busy connections (behind a proxy, a fixed set of clients): poll is cheaper; many,
/// mostly idle ones: epoll. Benchmarks/HISTORY.md has the figures.
public enum ConnectionPolling: String, Sendable, Equatable, CaseIterable {
    /// `poll` when the connection limit allows at most `pollConnectionsPerThread` per worker
    /// thread, else `epoll`.
    case auto
    /// poll(2): cheapest per request while each thread has few connections.
    case poll
    /// epoll(7): cost independent of idle connections.
    case epoll

    /// The most connections per worker thread for which `auto` chooses poll.
    public static let pollConnectionsPerThread = 128

    /// Whether a server with `connectionLimit` connections over `workerThreads` threads polls.
    func usesPoll(connectionLimit: Int, workerThreads: Int) -> Bool {
        switch self {
        case .poll: true
        case .epoll: false
        case .auto: workerThreads > 0 && connectionLimit <= Self.pollConnectionsPerThread * workerThreads
        }
    }
}
