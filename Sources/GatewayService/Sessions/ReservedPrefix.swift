/// The session example's key space (`GATEWAY_RESERVED_KEY_PREFIX`): the cache and command APIs
/// refuse any key, and any argument, that starts with it, so no token names those keys directly.
/// (What a script reaches is kept safe by `SessionSeal`: the values prove their origin, and a key
/// listing shows only hashes.)
struct ReservedPrefix: Sendable {
    let text: String
    private let bytes: [UInt8]

    init(_ text: String) {
        self.text = text
        bytes = Array(text.utf8)
    }

    /// Whether `argument` starts with the prefix (byte for byte: Redis keys are case-sensitive).
    func covers(_ argument: [UInt8]) -> Bool {
        argument.count >= bytes.count && argument.starts(with: bytes)
    }

    /// The refusal of a request that names the reserved keys.
    var refusal: GatewayError {
        .forbidden("NOPERM keys starting with '\(text)' belong to the gateway's session example (GATEWAY_RESERVED_KEY_PREFIX)")
    }
}
