/// An HTTP/1.1 server on libmicrohttpd that hands every request to a handler (usually
/// `Router.dispatch(_:to:)`) on its worker threads; the handler answers through a responder, at once
/// or later from any thread (the connection is suspended meanwhile, its worker thread is not).
///
/// Threading: the handler runs on many worker threads at once; blocking in it blocks only the
/// connections of that worker. Lifecycle: listening once `init` returns; `shutdown(grace:)` stops
/// accepting, lets requests in flight finish for up to `grace`, then closes everything.
public final class HTTPServer: Sendable {
    private let daemon: MicroHTTPDaemon

    /// Starts listening as `configuration` says and serves every request with `handler`.
    public convenience init(
        configuration: HTTPServerConfiguration,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) throws(HTTPServerError) {
        try self.init(configuration: configuration) { request, responder in responder.respond(handler(request)) }
    }

    /// Starts listening as `configuration` says; `handler` answers each request through its
    /// responder, at once or later from any thread (the connection waits, its worker thread does not).
    public init(configuration: HTTPServerConfiguration, handler: @escaping Router.AsyncHandler) throws(HTTPServerError) {
        daemon = try MicroHTTPDaemon(configuration: configuration, handler: handler)
    }

    /// The port the server listens on (the real one when configured with port 0).
    public var port: Int { daemon.port }

    /// With HTTPS: re-reads the certificate and key files, so new handshakes present the new pair
    /// (open connections keep theirs). Throws, keeping the current pair, when either file cannot be
    /// used; does nothing for plain HTTP.
    public func reloadCertificate() throws(HTTPServerError) {
        try daemon.certificate?.reload()
    }

    /// Requests being served now.
    public var requestsInFlight: Int { daemon.requestsInFlight }

    /// Serving, draining or refusing.
    public var phase: HTTPServerPhase { daemon.phase }

    /// Connections closed (408) because a request did not arrive whole within
    /// `HTTPServerConfiguration.requestTimeoutMilliseconds`.
    public var requestsTimedOut: Int { daemon.requestsTimedOut }

    /// Connections answered 503 and closed because `HTTPServerConfiguration.connectionLimit` was
    /// reached (counted by the accepting thread; libmicrohttpd's own pool, used with a per-address
    /// limit, refuses without counting: 0 there).
    public var connectionsRefused: Int { daemon.connectionsRefused }

    /// Shuts down in three steps:
    /// 1. stops accepting connections and waits up to `grace` for requests in flight (requests that
    ///    arrive on open connections meanwhile are served, with `Connection: close`);
    /// 2. past that deadline, answers every request that still arrives with 503 at once and calls
    ///    `pastDeadline` with the number still in flight (the owner can release what they wait on,
    ///    e.g. shut a connection pool so its waiters fail fast);
    /// 3. waits up to `finalWait` for the handlers still running, then stops: closes every connection.
    public func shutdown(grace: Duration = .seconds(5), finalWait: Duration = .seconds(5), pastDeadline: (Int) -> Void = { _ in }) {
        daemon.quiesce()
        waitForQuiet(upTo: grace)
        daemon.refuseRequests()
        pastDeadline(daemon.requestsInFlight)
        waitForRequestsInFlight(upTo: finalWait)
        daemon.stop()
    }

    /// Waits (bounded by `limit`) until no request is in flight and either no connection is open or
    /// none has started a request for 100 ms: a connection accepted just before the listener closed
    /// gets to send its request and be served, instead of meeting the refusal phase.
    private func waitForQuiet(upTo limit: Duration) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while clock.now < deadline {
            if daemon.requestsInFlight == 0, daemon.openConnections == 0 || daemon.quietFor >= .milliseconds(100) { return }
            usleepMilliseconds(5)
        }
    }

    /// libmicrohttpd offers no completion notification to wait on, so this polls the in-flight
    /// count (kept by its callbacks) every few milliseconds, bounded by `limit`.
    private func waitForRequestsInFlight(upTo limit: Duration) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while daemon.requestsInFlight > 0, clock.now < deadline {
            usleepMilliseconds(5)
        }
    }
}

#if canImport(Glibc)
    import Glibc
    private func usleepMilliseconds(_ milliseconds: UInt32) { usleep(milliseconds * 1000) }
#elseif canImport(Darwin)
    import Darwin
    private func usleepMilliseconds(_ milliseconds: UInt32) { usleep(milliseconds * 1000) }
#endif
