/// Percent-decoding of URL path segments, query components and URL credentials.
public enum PercentDecoding {
    /// Decodes `%XX` escapes (and `+` as a space when `plusIsSpace`); nil for a malformed escape.
    public static func decode(_ text: Substring, plusIsSpace: Bool = false) -> [UInt8]? {
        decode(bytes: text.utf8, plusIsSpace: plusIsSpace)
    }

    /// `decode` over raw bytes; bytes with no `%` (and no `+` to turn into a space) are copied as they are.
    public static func decode(bytes: some Collection<UInt8>, plusIsSpace: Bool = false) -> [UInt8]? {
        if !bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) {
            return Array(bytes)
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(HexDigit.value), let low = iterator.next().flatMap(HexDigit.value) else {
                    return nil
                }
                output.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                output.append(UInt8(ascii: " "))
            default:
                output.append(byte)
            }
        }
        return output
    }
}
