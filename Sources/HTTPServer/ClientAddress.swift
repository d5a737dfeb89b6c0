/// The address a request's TCP connection came from, as 16 bytes (IPv4 as `::ffff:a.b.c.d`), kept
/// without formatting (two integers: no allocation per request) until someone asks for its text.
/// Behind a proxy this is the proxy's address.
public struct ClientAddress: Sendable, Hashable, CustomStringConvertible {
    /// The first and last 8 bytes, big-endian.
    public let high: UInt64
    public let low: UInt64

    /// An address from its 16 bytes.
    public init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == 16)
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.high = high
        self.low = low
    }

    /// `a.b.c.d` for IPv4, else eight groups of hex digits (not shortened).
    public var description: String {
        if high == 0, low >> 32 == 0xFFFF {
            let octets: [UInt64] = [low >> 24 & 0xFF, low >> 16 & 0xFF, low >> 8 & 0xFF, low & 0xFF]
            return octets.map { String($0) }.joined(separator: ".")
        }
        var groups: [String] = []
        for word in [high, low] {
            for shift in stride(from: 48, through: 0, by: -16) {
                groups.append(String(word >> UInt64(shift) & 0xFFFF, radix: 16))
            }
        }
        return groups.joined(separator: ":")
    }
}
