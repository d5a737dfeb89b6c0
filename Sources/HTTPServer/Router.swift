import Dispatch
import Synchronization

/// Matches requests to handlers by method and path pattern (`/cache/{key}/ttl`); a last segment
/// `{name*}` matches one or more segments (read them from `request.pathSegments`).
///
/// Unknown paths answer 404, a known path with the wrong method 405 with `Allow`, a malformed
/// percent-escape 400. HEAD is served by the GET handler (the server drops the body).
/// Threading: build it once, then share it; `respond(to:)` may run on many threads at once.
public struct Router: Sendable {
    /// Answers one request.
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse
    /// Answers one request through its responder, now or later, from any thread.
    public typealias AsyncHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

    private enum Action: Sendable {
        case now(Handler)
        case later(AsyncHandler)
    }

    private enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case parameter(String)
        case rest(String)
    }

    private struct Route: Sendable {
        let method: HTTPMethod
        let segments: [Segment]
        let label: String
        let action: Action
        /// The first segment when it is literal, and whether the last matches one or more: what
        /// rules most routes out before `match` (every request is tried against every route).
        let firstLiteral: [UInt8]?
        let endsWithRest: Bool

        /// Whether `path` can match at all: the right number of segments and the same first literal.
        func mayMatch(_ path: [[UInt8]]) -> Bool {
            guard endsWithRest ? path.count >= segments.count : path.count == segments.count else { return false }
            guard let firstLiteral, let first = path.first else { return true }
            return first == firstLiteral
        }
    }

    private var routes: [Route] = []
    private var fallback: Action?

    /// An empty router.
    public init() {}

    /// Adds a route; `{name}` segments match any one segment and become `request.parameters[name]`.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        add(method, pattern, action: .now(handler))
    }

    /// Adds a route whose handler answers through a responder (possibly later, from another thread).
    public mutating func addAsync(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping AsyncHandler) {
        add(method, pattern, action: .later(handler))
    }

    private mutating func add(_ method: HTTPMethod, _ pattern: String, action: Action) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            if part.hasPrefix("{") && part.hasSuffix("*}") { return Segment.rest(String(part.dropFirst().dropLast(2))) }
            return part.hasPrefix("{") && part.hasSuffix("}")
                ? Segment.parameter(String(part.dropFirst().dropLast())) : .literal(Array(part.utf8))
        }
        var firstLiteral: [UInt8]?
        if case .literal(let literal)? = segments.first { firstLiteral = literal }
        var endsWithRest = false
        if case .rest? = segments.last { endsWithRest = true }
        routes.append(
            Route(
                method: method, segments: segments, label: "\(method) \(pattern)", action: action, firstLiteral: firstLiteral,
                endsWithRest: endsWithRest))
    }

    /// Answers every request whose path matches no route (instead of the router's own 404).
    public mutating func setFallback(_ handler: @escaping Handler) {
        fallback = .now(handler)
    }

    /// Like `setFallback`, with a handler that answers through a responder.
    public mutating func setAsyncFallback(_ handler: @escaping AsyncHandler) {
        fallback = .later(handler)
    }

    /// Answers `request` through `responder`: at once for a synchronous route and the router's own
    /// 404/405, whenever the handler answers for an asynchronous one.
    public func dispatch(_ request: HTTPRequest, to responder: HTTPResponder) {
        switch resolve(request) {
        case .respond(let response): responder.respond(response)
        case .run(.now(let handler), let routed): responder.respond(handler(routed))
        case .run(.later(let handler), let routed): handler(routed, responder)
        }
    }

    /// The response for `request`, waiting for an asynchronous handler's answer (for tests and
    /// callers without a responder of their own).
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let answer = Mutex<HTTPResponse?>(nil)
        let answered = DispatchSemaphore(value: 0)
        dispatch(
            request,
            to: HTTPResponder { response in
                answer.withLock { $0 = response }
                answered.signal()
            })
        answered.wait()
        return answer.withLock { $0 } ?? .error(500, "no answer")
    }

    private enum Resolution {
        case respond(HTTPResponse)
        case run(Action, HTTPRequest)
    }

    private func resolve(_ request: HTTPRequest) -> Resolution {
        var allowed: [HTTPMethod] = []
        let lookup = request.method == .head ? HTTPMethod.get : request.method
        for route in routes where route.mayMatch(request.pathSegments) {
            guard let parameters = match(route.segments, request.pathSegments) else { continue }
            if route.method == lookup {
                var routed = request
                routed.parameters = parameters
                routed.route = route.label
                return .run(route.action, routed)
            }
            allowed.append(route.method)
        }
        if allowed.isEmpty {
            if let fallback { return .run(fallback, request) }
            return .respond(.error(404, "no such endpoint: \(request.rawPath)"))
        }
        if allowed.contains(.get) { allowed.append(.head) }
        let allow = allowed.map(\.description).joined(separator: ", ")
        return .respond(.error(405, "method \(request.method) not allowed on \(request.rawPath)", headers: [("Allow", allow)]))
    }

    private func match(_ pattern: [Segment], _ path: [[UInt8]]) -> [String: [UInt8]]? {
        if case .rest = pattern.last {
            guard path.count >= pattern.count else { return nil }
        } else {
            guard pattern.count == path.count else { return nil }
        }
        var parameters: [String: [UInt8]] = [:]
        for (segment, value) in zip(pattern, path) {
            switch segment {
            case .literal(let literal):
                if literal != value { return nil }
            case .parameter(let name):
                parameters[name] = value
            case .rest(let name):
                parameters[name] = value  // the first of them
            }
        }
        return parameters
    }
}
