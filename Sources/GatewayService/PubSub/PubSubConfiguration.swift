/// Bounds and timings of the event streams (`/subscribe`, `/psubscribe`).
public struct PubSubConfiguration: Sendable, Equatable {
    /// Most event streams open at once; more get 503. Each one is also an HTTP connection, so the
    /// HTTP connection limit must leave room for them.
    public var maxSubscribers = 1000
    /// Most bytes waiting unsent to one stream; a consumer that falls further behind is told it was
    /// dropped and its stream is closed.
    public var bufferBytes = 256 * 1024
    /// How often an SSE comment line is sent to every stream (keeps proxies from closing idle
    /// streams, and finds clients that left).
    public var heartbeat: Duration = .seconds(15)

    /// The defaults: 1000 streams, 256 KiB each, a heartbeat every 15 s.
    public init() {}
}
