/// Redis Cluster's key → slot function: CRC16 (XMODEM) of the key, or of its `{hash tag}` when the
/// key holds a non-empty one, modulo 16384 (the Redis Cluster specification, "Keys distribution model").
public enum HashSlot {
    /// The number of slots in a cluster.
    public static let count = 16384

    /// The slot of `key`.
    public static func of(_ key: [UInt8]) -> Int {
        key.withUnsafeBufferPointer { bytes in
            var start = 0
            var end = bytes.count
            if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
                let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
            {
                start = open + 1
                end = close
            }
            var crc: UInt16 = 0
            for index in start..<end {
                crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ bytes[index])]
            }
            return Int(crc) & (count - 1)
        }
    }

    /// The slot of a textual key.
    public static func of(_ key: String) -> Int { of(Array(key.utf8)) }

    private static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
