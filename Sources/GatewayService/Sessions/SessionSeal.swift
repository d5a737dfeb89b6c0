import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What keeps the session example's data in Redis from the tokens that share that Redis. A full
/// token could reach the keys anyway, through a script; so the values carry their own proof:
/// - a session is stored under the SHA-256 of its id (a key listing shows no usable session), and
///   its value `<user id>:<HMAC>` is bound to that key, so a forged or copied session is no session;
/// - cached user data is sealed with AES-GCM (bound to its key), so it can be neither read nor
///   altered; a value that does not open is a cache miss, and is replaced.
/// Two keys are derived (HKDF-SHA256) from the configured secret, one per use.
///
/// Threading: immutable.
struct SessionSeal: Sendable {
    /// The derived keys' bytes (`SymmetricKey` is not `Sendable`; one is made per use).
    private let macKeyBytes: [UInt8]
    private let dataKeyBytes: [UInt8]
    private var macKey: SymmetricKey { SymmetricKey(data: macKeyBytes) }
    private var dataKey: SymmetricKey { SymmetricKey(data: dataKeyBytes) }
    /// The key names' prefix (`GATEWAY_RESERVED_KEY_PREFIX`).
    let prefix: String

    init(secret: [UInt8], prefix: String) {
        let material = SymmetricKey(data: secret)
        macKeyBytes = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Array("redis-gateway session".utf8), outputByteCount: 32)
            .withUnsafeBytes { Array($0) }
        dataKeyBytes = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Array("redis-gateway user data".utf8), outputByteCount: 32)
            .withUnsafeBytes { Array($0) }
        self.prefix = prefix
    }

    /// A random secret, for a gateway started without one.
    static func randomSecret() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    // MARK: Key names

    /// Where session `sid` lives: the hash of the id, never the id.
    func sessionKey(_ sid: String) -> String {
        prefix + "session:" + SHA256.hash(data: Array(sid.utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// The prefix of the user-data keys (the session script appends the id).
    var userDataPrefix: String { prefix + "user_data:" }

    func userDataKey(_ userID: Int64) -> String { userDataPrefix + String(userID) }

    // MARK: Sessions

    /// The value stored at `key` for a session of `userID`.
    func sessionValue(userID: Int64, key: String) -> [UInt8] {
        let id = String(userID)
        let code = HMAC<SHA256>.authenticationCode(for: Array((key + "\n" + id).utf8), using: macKey)
        return Array((id + ":" + Data(code).base64EncodedString()).utf8)
    }

    /// The user of the session value read at `key`; nil when it was not made by this secret for
    /// this key (forged, copied from another session, or altered).
    func userID(fromSession value: [UInt8], key: String) -> Int64? {
        guard let colon = value.firstIndex(of: UInt8(ascii: ":")),
            let userID = Int64(String(decoding: value[..<colon], as: UTF8.self)), userID > 0,
            let code = Data(base64Encoded: String(decoding: value[(colon + 1)...], as: UTF8.self))
        else { return nil }
        let message = Array((key + "\n" + String(userID)).utf8)
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: macKey) ? userID : nil
    }

    // MARK: User data

    /// `bytes` sealed for `key`: nonce, ciphertext and tag.
    func sealUserData(_ bytes: [UInt8], key: String) -> [UInt8] {
        // Sealing with a fresh random nonce cannot fail.
        guard let box = try? AES.GCM.seal(bytes, using: dataKey, authenticating: Array(key.utf8)), let combined = box.combined else {
            preconditionFailure("AES-GCM sealing failed")
        }
        return Array(combined)
    }

    /// The bytes sealed for `key`; nil when `sealed` is not such a seal (altered, or written by
    /// someone else).
    func openUserData(_ sealed: [UInt8], key: String) -> [UInt8]? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed),
            let opened = try? AES.GCM.open(box, using: dataKey, authenticating: Array(key.utf8))
        else { return nil }
        return Array(opened)
    }
}
