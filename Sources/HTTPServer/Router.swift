/// Matches requests to handlers by method and path pattern (`/cache/{key}/ttl`).
///
/// Unknown paths answer 404, a known path with the wrong method 405 with `Allow`, a malformed
/// percent-escape 400. HEAD is served by the GET handler (the server drops the body).
/// Threading: build it once, then share it; `respond(to:)` may run on many threads at once.
public struct Router: Sendable {
    /// Answers one request.
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    private enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case parameter(String)
    }

    private struct Route: Sendable {
        let method: HTTPMethod
        let segments: [Segment]
        let label: String
        let handler: Handler
    }

    private var routes: [Route] = []
    private var fallback: Handler?

    /// An empty router.
    public init() {}

    /// Adds a route; `{name}` segments match any one segment and become `request.parameters[name]`.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            part.hasPrefix("{") && part.hasSuffix("}")
                ? Segment.parameter(String(part.dropFirst().dropLast())) : .literal(Array(part.utf8))
        }
        routes.append(Route(method: method, segments: segments, label: "\(method) \(pattern)", handler: handler))
    }

    /// Answers every request whose path matches no route (instead of the router's own 404).
    public mutating func setFallback(_ handler: @escaping Handler) {
        fallback = handler
    }

    /// The handler's response for `request`, or the 404/405 the router gives itself.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        var allowed: [HTTPMethod] = []
        let lookup = request.method == .head ? HTTPMethod.get : request.method
        for route in routes {
            guard let parameters = match(route.segments, request.pathSegments) else { continue }
            if route.method == lookup {
                var routed = request
                routed.parameters = parameters
                routed.route = route.label
                return route.handler(routed)
            }
            allowed.append(route.method)
        }
        if allowed.isEmpty {
            return fallback?(request) ?? .error(404, "no such endpoint: \(request.rawPath)")
        }
        if allowed.contains(.get) { allowed.append(.head) }
        let allow = allowed.map(\.description).joined(separator: ", ")
        return .error(405, "method \(request.method) not allowed on \(request.rawPath)", headers: [("Allow", allow)])
    }

    private func match(_ pattern: [Segment], _ path: [[UInt8]]) -> [String: [UInt8]]? {
        guard pattern.count == path.count else { return nil }
        var parameters: [String: [UInt8]] = [:]
        for (segment, value) in zip(pattern, path) {
            switch segment {
            case .literal(let literal):
                if literal != value { return nil }
            case .parameter(let name):
                parameters[name] = value
            }
        }
        return parameters
    }
}
