/// The HTTP server could not start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// Why it could not start.
    public let description: String
}
