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
/// status `OK`; or the raw RESP2 bytes. Everything is written straight into one byte buffer.
enum RESTResultRendering {
    /// How strings are written.
    enum Encoding {
        case text
        case base64
    }

    /// `[{"result": ...}, {"error": "..."}, ...]`: one entry per reply.
    static func entries(_ values: [RedisValue], encoding: Encoding) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(values.count * 24)
        output.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            appendEntry(value, encoding: encoding, to: &output)
        }
        output.append(UInt8(ascii: "]"))
        return output
    }

    /// `{"result": ...}` for a reply, `{"error": "..."}` for an error reply.
    static func entry(_ value: RedisValue, encoding: Encoding) -> [UInt8] {
        var output: [UInt8] = []
        appendEntry(value, encoding: encoding, to: &output)
        return output
    }

    /// The JSON of one reply.
    static func json(_ value: RedisValue, encoding: Encoding) -> String {
        var output: [UInt8] = []
        appendJSON(value, encoding: encoding, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func appendEntry(_ value: RedisValue, encoding: Encoding, to output: inout [UInt8]) {
        if case .error(let message) = value {
            output.append(contentsOf: #"{"error":"#.utf8)
            JSONString.appendQuoted(message.utf8, to: &output)
        } else {
            output.append(contentsOf: #"{"result":"#.utf8)
            appendJSON(value, encoding: encoding, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    private static func appendJSON(_ value: RedisValue, encoding: Encoding, to output: inout [UInt8]) {
        switch value {
        case .integer(let number):
            output.append(contentsOf: String(number).utf8)
        case .null:
            output.append(contentsOf: "null".utf8)
        case .status(let text):
            if encoding == .base64, text != "OK" {
                JSONString.appendQuoted(Data(text.utf8).base64EncodedString().utf8, to: &output)
            } else {
                JSONString.appendQuoted(text.utf8, to: &output)
            }
        case .bulk(let bytes):
            switch encoding {
            case .base64:
                JSONString.appendQuoted(Data(bytes).base64EncodedString().utf8, to: &output)
            case .text where bytes.allSatisfy({ $0 < 0x80 }):
                JSONString.appendQuoted(bytes, to: &output)
            case .text:
                JSONString.appendQuoted(String(decoding: bytes, as: UTF8.self).utf8, to: &output)  // U+FFFD for invalid UTF-8
            }
        case .error(let message):
            JSONString.appendQuoted(message.utf8, to: &output)  // an error nested in an array reply: never encoded
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                appendJSON(element, encoding: encoding, to: &output)
            }
            output.append(UInt8(ascii: "]"))
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
