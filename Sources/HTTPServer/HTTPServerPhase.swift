/// Where an `HTTPServer` is in its life.
public enum HTTPServerPhase: Int, Sendable {
    /// Accepting connections and serving requests.
    case serving
    /// No longer accepting connections; requests on open ones are served with `Connection: close`.
    case draining
    /// The drain deadline passed: any request that still arrives gets 503 at once.
    case refusing
}
