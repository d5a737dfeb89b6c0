import HTTPServer
import RedisClient

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Renders Redis replies the way the Upstash REST protocol does: integers as JSON numbers, nil as
/// `null`, bulk and status strings as JSON strings (invalid UTF-8 replaced by U+FFFD), arrays
/// nested (RESP2 shapes); or, with `Upstash-Encoding: base64`, every string base64 except the
/// status `OK`; or the raw RESP2 bytes.
enum RESTResultRendering {
    /// How strings are written.
    enum Encoding {
        case text
        case base64
    }

    /// `{"result": ...}` for a reply, `{"error": "..."}` for an error reply.
    static func entry(_ value: RedisValue, encoding: Encoding) -> String {
        if case .error(let message) = value { return #"{"error":"# + JSONString.quote(message) + "}" }
        return #"{"result":"# + json(value, encoding: encoding) + "}"
    }

    /// The JSON of one reply.
    static func json(_ value: RedisValue, encoding: Encoding) -> String {
        switch value {
        case .integer(let number):
            return String(number)
        case .null:
            return "null"
        case .status(let text):
            if encoding == .base64, text != "OK" { return JSONString.quote(Data(text.utf8).base64EncodedString()) }
            return JSONString.quote(text)
        case .bulk(let bytes):
            if encoding == .base64 { return JSONString.quote(Data(bytes).base64EncodedString()) }
            return JSONString.quote(String(decoding: bytes, as: UTF8.self))
        case .error(let message):
            return JSONString.quote(message)  // an error nested in an array reply: never encoded
        case .array(let elements):
            return "[" + elements.map { json($0, encoding: encoding) }.joined(separator: ",") + "]"
        }
    }

    /// The RESP2 bytes of one reply, as Redis sent them.
    static func resp2(_ value: RedisValue, into output: inout [UInt8]) {
        switch value {
        case .status(let text):
            output += Array("+\(text)\r\n".utf8)
        case .error(let message):
            output += Array("-\(message)\r\n".utf8)
        case .integer(let number):
            output += Array(":\(number)\r\n".utf8)
        case .null:
            output += Array("$-1\r\n".utf8)
        case .bulk(let bytes):
            output += Array("$\(bytes.count)\r\n".utf8)
            output += bytes
            output += [13, 10]
        case .array(let elements):
            output += Array("*\(elements.count)\r\n".utf8)
            for element in elements { resp2(element, into: &output) }
        }
    }
}
