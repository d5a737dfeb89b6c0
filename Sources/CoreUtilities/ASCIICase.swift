/// Case folding for ASCII tokens such as HTTP header names and Redis command names: no Unicode
/// tables, and no allocation when the text already has the wanted case (what `lowercased()` and
/// `uppercased()` would spend on every request).
public enum ASCIICase {
    /// `text` with `A`–`Z` turned into `a`–`z`; the same string when it has no capital letter.
    public static func lowercased(_ text: String) -> String {
        var text = text
        let folded: String? = text.withUTF8 { bytes in
            guard bytes.contains(where: isUpper) else { return nil }
            return String(unsafeUninitializedCapacity: bytes.count) { buffer in
                for index in bytes.indices { buffer[index] = isUpper(bytes[index]) ? bytes[index] | 0x20 : bytes[index] }
                return bytes.count
            }
        }
        return folded ?? text
    }

    /// `bytes` as text with `a`–`z` turned into `A`–`Z` (a Redis command name).
    public static func uppercased(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { bytes in
            guard bytes.contains(where: isLower) else { return String(decoding: bytes, as: UTF8.self) }
            return String(unsafeUninitializedCapacity: bytes.count) { buffer in
                for index in bytes.indices { buffer[index] = isLower(bytes[index]) ? bytes[index] & ~0x20 : bytes[index] }
                return bytes.count
            }
        }
    }

    /// Whether `text` equals `lowercase` (which must be lower case) ignoring ASCII case.
    public static func equals(_ text: String, lowercase: String) -> Bool {
        text.utf8.count == lowercase.utf8.count && zip(text.utf8, lowercase.utf8).allSatisfy { ($0 | (isUpper($0) ? 0x20 : 0)) == $1 }
    }

    /// Whether `text` contains `lowercase` (which must be lower case) ignoring ASCII case: a plain
    /// byte scan (the standard library's `contains` builds a searcher on every call).
    public static func contains(_ text: String, lowercase: String) -> Bool {
        var text = text
        var needle = lowercase
        return text.withUTF8 { haystack in
            needle.withUTF8 { needle in
                guard needle.count <= haystack.count else { return false }
                if needle.isEmpty { return true }
                for start in 0...(haystack.count - needle.count) {
                    var matched = true
                    for offset in 0..<needle.count {
                        let byte = haystack[start + offset]
                        if (isUpper(byte) ? byte | 0x20 : byte) != needle[offset] {
                            matched = false
                            break
                        }
                    }
                    if matched { return true }
                }
                return false
            }
        }
    }

    private static func isUpper(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "A") < 26 }

    private static func isLower(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "a") < 26 }
}
