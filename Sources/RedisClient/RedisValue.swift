/// One RESP2 reply from Redis.
public enum RedisValue: Sendable, Equatable {
    /// A status reply such as `OK` or `PONG`.
    case status(String)
    /// An error reply such as `WRONGTYPE Operation against a key holding the wrong kind of value`.
    case error(String)
    /// An integer reply.
    case integer(Int64)
    /// A bulk string: raw bytes, binary safe.
    case bulk([UInt8])
    /// The null bulk string or null array.
    case null
    /// An array reply.
    case array([RedisValue])

    /// The bytes of a bulk or status reply; nil for other kinds.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .status(let text): Array(text.utf8)
        case .error, .integer, .null, .array: nil
        }
    }

    /// The text of a bulk or status reply (UTF-8); nil for other kinds.
    public var text: String? {
        bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The integer of an integer reply; nil for other kinds.
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The message of an error reply; nil for other kinds.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
