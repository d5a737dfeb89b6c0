/// How connections to Redis use TLS (`rediss://`, `rediss+sentinel://`, `rediss+cluster://`): what
/// is trusted, what the gateway presents, and which name it verifies.
public struct RedisTLSSettings: Sendable, Equatable {
    /// PEM bundle of the CAs to trust; nil: the system trust store.
    public var caFile: String?
    /// PEM client certificate (chain) presented to Redis (`tls-auth-clients yes`); with `keyFile`.
    public var certificateFile: String?
    /// PEM private key of `certificateFile`.
    public var keyFile: String?
    /// The name sent as SNI and verified against the server's certificate; nil: the host dialled.
    public var serverName: String?
    /// Whether the server's chain and name are verified (`full`), or not at all (`none`).
    public var verify: Verification = .full

    /// How much of the server's certificate is checked.
    public enum Verification: String, Sendable, CaseIterable {
        /// The chain up to a trusted CA, its dates and the server's name.
        case full
        /// Nothing: anyone on the path can read and change the traffic (tests, a private network).
        case none
    }

    /// The system trust store, no client certificate, the dialled host's name, full verification.
    public init() {}
}
