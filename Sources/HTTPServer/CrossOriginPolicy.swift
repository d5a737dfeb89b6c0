import CoreUtilities

/// Which web origins may call the server from a browser (CORS), and the headers that say so.
///
/// - `.none` (the default): no CORS headers at all; a browser page on another origin cannot read
///   any response, and preflights fall through to the routes (405).
/// - `.origins`: the listed origins only. An allowed origin is echoed back with `Vary: Origin`
///   (every response then says it varies by origin, so a shared cache never serves one origin's
///   answer to another); any other origin gets no CORS headers.
/// - `.any`: `Access-Control-Allow-Origin: *`.
///
/// `Access-Control-Allow-Credentials` is never sent, so `*` never comes with credentials: callers
/// authenticate with an `Authorization` header (or `?_token=`), which needs no credentials mode.
///
/// Threading: a value; shared freely.
public enum CrossOriginPolicy: Sendable, Equatable {
    case none
    case origins(Set<String>)
    case any

    /// The request headers a page may send (answered to every preflight).
    public static let allowedHeaders =
        "Authorization, Content-Type, Upstash-Encoding, Upstash-Response-Format, Upstash-Sync-Token, X-Request-Id, If-Match, If-None-Match"
    /// The response headers a page may read.
    public static let exposedHeaders = "upstash-sync-token, X-Request-Id, X-TTL, X-Cache, ETag, Retry-After"
    /// The methods a preflight allows.
    public static let allowedMethods = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
    /// How long a browser may keep a preflight's answer, in seconds.
    public static let maxAgeSeconds = 600

    /// The policy `text` describes: empty for none, `*` for any, else comma-separated origins
    /// (`scheme://host[:port]`, no path); a failure naming the first entry that is not an origin.
    public static func parse(_ text: String) -> Result<CrossOriginPolicy, CrossOriginError> {
        let entries = text.split(separator: ",").map { String($0.filter { $0 != " " && $0 != "\t" }) }.filter { !$0.isEmpty }
        if entries.isEmpty { return .success(.none) }
        if entries == ["*"] { return .success(.any) }
        var origins = Set<String>()
        for entry in entries {
            let lowered = ASCIICase.lowercased(entry)
            guard Self.isOrigin(lowered) else { return .failure(CrossOriginError(entry: entry)) }
            origins.insert(lowered)
        }
        return .success(.origins(origins))
    }

    /// Whether `text` (lower-cased) is `http://` or `https://` and a host, with no path.
    private static func isOrigin(_ text: String) -> Bool {
        for scheme in ["http://", "https://"] where text.hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            return !rest.isEmpty && !rest.contains("/") && !rest.contains("*")
        }
        return false
    }

    /// The policy written as `parse` reads it (origins sorted).
    public var summary: String {
        switch self {
        case .none: ""
        case .any: "*"
        case .origins(let origins): origins.sorted().joined(separator: ",")
        }
    }

    /// Whether any CORS header is ever sent.
    public var isEnabled: Bool { self != .none }

    /// The answer to a CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`),
    /// which needs no token: 204 with the allowed methods and headers for an allowed origin, 403
    /// without CORS headers for another (pass either through `decorate`). Nil when `request` is not a preflight or CORS is off.
    public func preflightResponse(to request: HTTPRequest) -> HTTPResponse? {
        guard isEnabled, request.method == .options, let origin = request.header("origin"),
            request.header("access-control-request-method") != nil
        else { return nil }
        // `decorate` adds the origin's own headers (and `Vary`) to this answer, as to every other.
        guard allowOrigin(for: origin) != nil else { return .error(403, "origin \(origin) is not allowed (GATEWAY_CORS_ORIGINS)") }
        return HTTPResponse(
            status: 204,
            headers: [
                ("Access-Control-Allow-Methods", Self.allowedMethods),
                ("Access-Control-Allow-Headers", Self.allowedHeaders),
                ("Access-Control-Max-Age", String(Self.maxAgeSeconds)),
            ])
    }

    /// Adds the CORS headers for a request from `origin` (its `Origin` header) to `response` (any
    /// status, errors included, so a page can read the JSON error).
    public func decorate(_ response: inout HTTPResponse, origin: String?) {
        guard isEnabled else { return }
        response.headers += vary
        guard let origin, let allowOrigin = allowOrigin(for: origin) else { return }
        response.headers.append(("Access-Control-Allow-Origin", allowOrigin))
        response.headers.append(("Access-Control-Expose-Headers", Self.exposedHeaders))
    }

    /// `Access-Control-Allow-Origin`'s value for `origin`, or nil when it is not allowed.
    func allowOrigin(for origin: String) -> String? {
        switch self {
        case .none: nil
        case .any: "*"
        case .origins(let origins):
            // The configured spelling, never the request's bytes.
            origins.contains(ASCIICase.lowercased(origin)) ? ASCIICase.lowercased(origin) : nil
        }
    }

    /// `Vary: Origin` when the answer depends on the origin (a list); `*` is the same for all.
    private var vary: [(name: String, value: String)] {
        if case .origins = self { return [("Vary", "Origin")] }
        return []
    }
}

/// A `GATEWAY_CORS_ORIGINS` entry that is not an origin.
public struct CrossOriginError: Error, Sendable, Equatable {
    /// The entry as written.
    public let entry: String
}
