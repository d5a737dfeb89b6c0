/// How the HTTP server listens and what it accepts.
public struct HTTPServerConfiguration: Sendable, Equatable {
    /// Numeric IPv4 or IPv6 address to bind.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free one (read it back from `HTTPServer.port`).
    public var port: Int = 8080
    /// Worker threads; each serves its connections one request at a time. 0: a thread per
    /// connection (fairer under uneven load, slower at high request rates).
    public var workerThreads: Int = 8
    /// Most client connections open at once; more are refused.
    public var connectionLimit: Int = 1024
    /// Most client connections from one address at once; 0 for no limit.
    public var perAddressConnectionLimit: Int = 0
    /// Idle client connections are closed after this many seconds.
    public var connectionTimeoutSeconds: Int = 30
    /// Per-connection buffer for the request line and headers (a longer URL gets 414). libmicrohttpd
    /// zeroes this buffer between requests, so bigger costs time on every request.
    public var connectionMemoryBytes: Int = 16 * 1024
    /// Largest accepted request body; larger ones get 413.
    public var maxBodyBytes: Int = 10 * 1024 * 1024

    /// Defaults: 127.0.0.1:8080, 8 workers, 1024 connections, 30 s idle timeout, 16 KiB headers, 10 MiB bodies.
    public init() {}
}
