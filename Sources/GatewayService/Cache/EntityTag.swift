import CoreUtilities
import Crypto

/// A cached value's validator (`ETag`): the SHA-1 of its bytes in hex, quoted. The same value gives
/// the same tag in every gateway and after restarts (no per-process seed), and Redis computes the
/// very same text with `redis.sha1hex`, which makes `If-Match` one atomic script.
///
/// SHA-1 here identifies a value; it is not a signature. A caller who finds a collision can only
/// fool its own conditional request.
struct EntityTag: Sendable, Equatable {
    /// The tag as sent in `ETag`, quotes included.
    let quoted: String

    /// The tag of `value`.
    init(of value: [UInt8]) {
        // Hashed from the bytes and written into the string directly: the generic `hash(data:)`
        // and a digest iterated byte by byte cost more than SHA-1 of a small value itself.
        var hasher = Insecure.SHA1()
        value.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        quoted = hasher.finalize().withUnsafeBytes { digest in
            String(unsafeUninitializedCapacity: 2 * digest.count + 2) { text in
                text[0] = UInt8(ascii: "\"")
                for (index, byte) in digest.enumerated() {
                    text[1 + 2 * index] = HexDigit.lowercase(byte >> 4)
                    text[2 + 2 * index] = HexDigit.lowercase(byte & 0xF)
                }
                text[2 * digest.count + 1] = UInt8(ascii: "\"")
                return 2 * digest.count + 2
            }
        }
    }

    /// Whether `If-None-Match: header` covers this tag: `*`, or any listed tag compared weakly
    /// (a `W/` prefix ignored), as RFC 9110 §13.1.2 says.
    func isMatched(byIfNoneMatch header: String) -> Bool {
        Self.tags(in: header).contains { $0 == "*" || $0.droppingWeakPrefix == quoted }
    }

    /// The entries an `If-Match` header lists, for the strong comparison done in Redis (`*` kept;
    /// weak tags dropped, since they never match strongly). An entry that is not a quoted tag is
    /// kept too: it matches nothing, so the write answers 412 and nothing is stored.
    static func ifMatchTags(_ header: String) -> [String] {
        tags(in: header).filter { !$0.hasPrefix("W/") }
    }

    private static func tags(in header: String) -> [String] {
        header.split(separator: ",").map { String($0.filter { $0 != " " && $0 != "\t" }) }.filter { !$0.isEmpty }
    }
}

extension String {
    fileprivate var droppingWeakPrefix: String { hasPrefix("W/") ? String(dropFirst(2)) : self }
}
