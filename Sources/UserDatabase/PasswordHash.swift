import Crypto
import _CryptoExtras

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A password stored as a salted slow hash: PBKDF2-HMAC-SHA256 (swift-crypto's `_CryptoExtras`,
/// BoringSSL underneath), written `pbkdf2-sha256$<rounds>$<salt>$<hash>` (base64) so that a later
/// cost is read from what was stored. 210,000 rounds by default, the floor swift-crypto allows and
/// OWASP's figure for PBKDF2-SHA256 at the time of writing; a verification compares in constant time.
public struct PasswordHash: Sendable, Equatable {
    /// Rounds of PBKDF2.
    public let rounds: Int
    let salt: [UInt8]
    let hash: [UInt8]

    /// The default cost.
    public static let defaultRounds = 210_000

    /// `password` hashed with a fresh random 16-byte salt. Fewer than 210,000 `rounds` are for tests.
    public static func make(_ password: String, rounds: Int = defaultRounds) -> PasswordHash {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return PasswordHash(rounds: rounds, salt: salt, hash: derive(password, salt: salt, rounds: rounds))
    }

    /// A hash no password matches that costs what a real one does to check (for unknown users).
    static func decoy(rounds: Int) -> PasswordHash {
        var generator = SystemRandomNumberGenerator()
        return PasswordHash(
            rounds: rounds, salt: (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) },
            hash: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Whether `password` is the one hashed.
    public func matches(_ password: String) -> Bool {
        let candidate = Self.derive(password, salt: salt, rounds: rounds)
        guard candidate.count == hash.count else { return false }
        return zip(candidate, hash).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The stored form.
    public var encoded: String {
        "pbkdf2-sha256$\(rounds)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    /// Reads the stored form; nil when it is not one.
    public init?(encoded: String) {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds > 0,
            let salt = Data(base64Encoded: String(parts[2])), let hash = Data(base64Encoded: String(parts[3])), hash.count == 32
        else { return nil }
        self.init(rounds: rounds, salt: Array(salt), hash: Array(hash))
    }

    private init(rounds: Int, salt: [UInt8], hash: [UInt8]) {
        self.rounds = rounds
        self.salt = salt
        self.hash = hash
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int) -> [UInt8] {
        // `unsafeUncheckedRounds`: the checked form refuses fewer than 210,000, which tests use to
        // stay fast; the default is never below it.
        let key = try? KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
        return key?.withUnsafeBytes { Array($0) } ?? []
    }
}
