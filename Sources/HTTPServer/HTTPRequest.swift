import CoreUtilities

/// One complete HTTP request: method, path, query, headers and the whole body.
public struct HTTPRequest: Sendable {
    /// The request method.
    public var method: HTTPMethod
    /// The path as sent, percent-escapes intact (no query string).
    public var rawPath: String
    /// The path split on `/` and then percent-decoded, segment by segment (binary safe).
    public var pathSegments: [[UInt8]]
    /// Query pairs in order, percent-decoded (`+` is a space); a bare `?flag` has an empty value.
    /// As text: a byte that is not UTF-8 becomes U+FFFD (`queryBytes` keeps them).
    public var query: [(name: String, value: String)]
    /// The same pairs as the exact decoded bytes (`%FF` stays 0xFF), for binary-safe arguments.
    public var queryBytes: [(name: [UInt8], value: [UInt8])]
    /// Header fields in order; names lower-cased.
    public var headers: [(name: String, value: String)]
    /// The body bytes.
    public var body: [UInt8]
    /// Values of the route's `{name}` segments, filled in by the `Router`.
    public var parameters: [String: [UInt8]] = [:]
    /// Where the request's connection came from; nil when unknown (tests building requests).
    public var clientAddress: ClientAddress?
    /// The matched route, e.g. `GET /cache/{key}` (never the concrete path, which may hold a
    /// secret key), filled in by the `Router`; `unrouted` for the fallback.
    public var route = "unrouted"

    /// A request from its parts. `rawPath` is split and decoded here; nil if an escape is malformed.
    public init?(
        method: HTTPMethod,
        rawPath: String,
        rawQuery: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        var path = rawPath
        guard let segments = path.withUTF8(Self.segments) else { return nil }
        var decodedQuery: [(name: String, value: String)] = []
        var decodedBytes: [(name: [UInt8], value: [UInt8])] = []
        for (name, value) in rawQuery {
            guard let n = PercentDecoding.decode(Substring(name), plusIsSpace: true),
                let v = PercentDecoding.decode(Substring(value), plusIsSpace: true)
            else { return nil }
            decodedQuery.append((String(decoding: n, as: UTF8.self), String(decoding: v, as: UTF8.self)))
            decodedBytes.append((n, v))
        }
        self.method = method
        self.rawPath = rawPath
        self.pathSegments = segments
        self.query = decodedQuery
        self.queryBytes = decodedBytes
        self.headers = headers.map { (ASCIICase.lowercased($0.name), $0.value) }
        self.body = body
    }

    /// The segments after the first `/`, each percent-decoded; nil for a malformed escape. Split on
    /// the bytes, not on Characters: a path is ASCII once percent-encoded.
    private static func segments(_ path: UnsafeBufferPointer<UInt8>) -> [[UInt8]]? {
        guard var start = path.firstIndex(of: UInt8(ascii: "/")).map({ $0 + 1 }) else { return [] }
        var segments: [[UInt8]] = []
        while true {
            let end = path[start...].firstIndex(of: UInt8(ascii: "/")) ?? path.endIndex
            guard let decoded = PercentDecoding.decode(bytes: path[start..<end]) else { return nil }
            segments.append(decoded)
            if end == path.endIndex { return segments }
            start = end + 1
        }
    }

    /// The first header field named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = ASCIICase.lowercased(name)
        return headers.first { $0.name == lowered }?.value
    }

    /// The first header field named `name`, given in lower case (no case folding on the hot path).
    public func header(lowercased name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// The first query value named `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The route parameter `name` as text (invalid UTF-8 replaced).
    public func parameterString(_ name: String) -> String? {
        parameters[name].map { String(decoding: $0, as: UTF8.self) }
    }
}
