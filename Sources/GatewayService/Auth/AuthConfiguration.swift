/// Tokens for the HTTP API. None configured: authentication is off (the startup log says so).
public struct AuthConfiguration: Sendable, Equatable {
    /// Tokens with full access.
    public var tokens: [String] = []
    /// Tokens that may run read commands only.
    public var readOnlyTokens: [String] = []
    /// Require a token for `/metrics`, `/pool/stats` and `/pool/health` too.
    public var protectMetrics = false

    /// No tokens: authentication off.
    public init() {}
}
