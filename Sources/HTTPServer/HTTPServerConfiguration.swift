#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the HTTP server listens and what it accepts.
public struct HTTPServerConfiguration: Sendable, Equatable {
    /// Numeric IPv4 or IPv6 address to bind.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free one (read it back from `HTTPServer.port`).
    public var port: Int = 8080
    /// Worker threads, each serving its connections in turn; nil: one per online processor, at
    /// least 2 (handlers that wait hand their work to threads of their own, so more HTTP threads
    /// than cores only add context switches). 0: a thread per connection (fairer under uneven load,
    /// slower at high request rates).
    public var workerThreads: Int? = nil
    /// Most client connections open at once; more are refused.
    public var connectionLimit: Int = 1024
    /// How each worker thread waits for its connections (`ConnectionPolling`).
    public var polling: ConnectionPolling = .auto
    /// Most client connections from one address at once; 0 for no limit.
    public var perAddressConnectionLimit: Int = 0
    /// Idle client connections are closed after this many seconds.
    public var connectionTimeoutSeconds: Int = 30
    /// A request whose request line has arrived must arrive whole (headers and body) within this
    /// many milliseconds, or it is answered 408 and its connection closed; 0: no bound. (The wait
    /// for the request line itself is bounded by `connectionTimeoutSeconds` from the connection's
    /// start or previous response, however slowly its bytes trickle in.)
    public var requestTimeoutMilliseconds: Int = 30_000
    /// Per-connection buffer for the request line and headers (a longer URL gets 414, larger headers
    /// 431). libmicrohttpd zeroes all of it after every request, so every connection that has served
    /// one keeps it resident: it is most of what an idle keep-alive connection costs (Benchmarks/README.md,
    /// "Memory"). The gateway raises it to fit its longest key (`Gateway`).
    public var connectionMemoryBytes: Int = 5120
    /// Largest accepted request body; larger ones get 413.
    public var maxBodyBytes: Int = 10 * 1024 * 1024
    /// HTTPS: the PEM certificate chain (leaf first) and its key; both nil for plain HTTP.
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?

    /// HTTPS: the PEM CAs whose client certificates callers must present (mTLS); nil: none asked for.
    public var tlsClientCAFile: String?

    /// True when the server speaks HTTPS.
    public var usesTLS: Bool { tlsCertificateFile != nil }

    /// The worker threads `workerThreads` asks for: itself, or one per online processor (at least 2).
    public var resolvedWorkerThreads: Int {
        workerThreads ?? max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Whether worker threads wait with poll(2) rather than epoll(7) (`polling` resolved).
    public var usesPoll: Bool {
        polling.usesPoll(connectionLimit: connectionLimit, workerThreads: resolvedWorkerThreads)
    }

    /// Defaults: 127.0.0.1:8080, a worker per processor, 1024 connections (so epoll), 30 s idle timeout, 30 s to receive a
    /// request, a 5 KiB buffer for the request line and headers, 10 MiB bodies.
    public init() {}
}
