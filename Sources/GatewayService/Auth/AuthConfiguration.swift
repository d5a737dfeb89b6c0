import Foundation

/// Tokens for the HTTP API. None configured: authentication is off (the startup log says so).
public struct AuthConfiguration: Sendable, Equatable {
    /// Tokens with full access.
    public var tokens: [String] = []
    /// Tokens that may run read commands only.
    public var readOnlyTokens: [String] = []
    /// The file the tokens were read from, if any.
    public var tokensFile: String?
    /// Require a token for `/metrics`, `/pool/stats` and `/pool/health` too.
    public var protectMetrics = false
    /// Start without tokens on an address other than loopback (refused otherwise).
    public var allowUnauthenticated = false

    /// No tokens: authentication off.
    public init() {}

    /// Adds the tokens of the file at `path`: one per line, `readonly TOKEN` for a read-only one;
    /// blank lines and `#` comments skipped.
    mutating func readTokensFile(_ path: String) throws(SettingError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw SettingError("cannot read \(path)") }
        tokensFile = path
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let words = line.split(omittingEmptySubsequences: true) { $0 == " " || $0 == "\t" }
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            if first.lowercased() == "readonly", words.count == 2 {
                readOnlyTokens.append(String(words[1]))
            } else if words.count == 1 {
                tokens.append(String(first))
            } else {
                throw SettingError("a line must be TOKEN or 'readonly TOKEN'")
            }
        }
    }
}
