/// An HTTP/1.1 server on libmicrohttpd that answers every request with a synchronous handler
/// (usually `Router.respond(to:)`) on its worker threads.
///
/// Threading: the handler runs on many worker threads at once; blocking in it blocks only the
/// connections of that worker. Lifecycle: listening once `init` returns; `shutdown(grace:)` stops
/// accepting, lets requests in flight finish for up to `grace`, then closes everything.
public final class HTTPServer: Sendable {
    private let daemon: MicroHTTPDaemon

    /// Starts listening as `configuration` says and serves every request with `handler`.
    public init(
        configuration: HTTPServerConfiguration,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) throws(HTTPServerError) {
        daemon = try MicroHTTPDaemon(configuration: configuration, handler: handler)
    }

    /// The port the server listens on (the real one when configured with port 0).
    public var port: Int { daemon.port }

    /// Requests being served now.
    public var requestsInFlight: Int { daemon.requestsInFlight }

    /// Stops accepting connections, waits up to `grace` for requests in flight, then stops.
    public func shutdown(grace: Duration = .seconds(5)) {
        daemon.quiesce()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: grace)
        // libmicrohttpd offers no completion notification to wait on, so the drain polls the
        // in-flight count (kept by its callbacks) every few milliseconds, bounded by `grace`.
        while daemon.requestsInFlight > 0, clock.now < deadline {
            usleepMilliseconds(5)
        }
        daemon.stop()
    }
}

#if canImport(Glibc)
    import Glibc
    private func usleepMilliseconds(_ milliseconds: UInt32) { usleep(milliseconds * 1000) }
#elseif canImport(Darwin)
    import Darwin
    private func usleepMilliseconds(_ milliseconds: UInt32) { usleep(milliseconds * 1000) }
#endif
