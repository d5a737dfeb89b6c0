import HTTPServer

/// Checks the bearer token of a request (`Authorization: Bearer TOKEN`, or `?_token=TOKEN` as
/// Upstash accepts) against the configured tokens, in constant time. With no tokens configured,
/// authentication is off and every local, non-browser caller has full access (`LocalCaller`).
///
/// Threading: immutable; shared by all worker threads.
struct Authenticator: Sendable {
    private let fullTokens: [[UInt8]]
    private let readOnlyTokens: [[UInt8]]

    init(configuration: AuthConfiguration) {
        fullTokens = configuration.tokens.map { Array($0.utf8) }
        readOnlyTokens = configuration.readOnlyTokens.map { Array($0.utf8) }
    }

    /// True when at least one token is configured.
    var isEnabled: Bool { !fullTokens.isEmpty || !readOnlyTokens.isEmpty }

    /// The caller's role, or `.unauthorized` for a missing or wrong token.
    func role(of request: HTTPRequest) throws(GatewayError) -> CallerRole {
        guard isEnabled else {
            try LocalCaller.check(request)
            return .full
        }
        guard let presented = token(of: request) else { throw .unauthorized }
        var isFull = false
        var isReadOnly = false
        // Every token is compared, and each comparison takes the same time whatever matches.
        for token in fullTokens where Self.constantTimeEquals(token, presented) { isFull = true }
        for token in readOnlyTokens where Self.constantTimeEquals(token, presented) { isReadOnly = true }
        if isFull { return .full }
        if isReadOnly { return .readOnly }
        throw .unauthorized
    }

    private func token(of request: HTTPRequest) -> [UInt8]? {
        if let header = request.header("authorization") {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return Array(parts[1].utf8) }
        }
        return request.queryValue("_token").map { Array($0.utf8) }
    }

    /// Compares in time that depends only on the lengths, never on where the bytes differ.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt(a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= UInt(x ^ y)
        }
        return difference == 0
    }
}
