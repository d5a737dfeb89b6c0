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
///
/// JSON can be much larger than the reply it renders (a control byte becomes `\u0001`, six bytes),
/// so the JSON forms take a bound on the body: a string that would pass `maxBytes` is measured
/// before it is escaped, and the rendering fails with 413 instead of building it.
enum RESTResultRendering {
    /// How strings are written.
    enum Encoding {
        case text
        case base64
    }

    /// `[{"result": ...}, {"error": "..."}, ...]`: one entry per reply.
    static func entries(_ values: [RedisValue], encoding: Encoding, maxBytes: Int = .max) throws(GatewayError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(values.count * 24)
        output.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            try appendEntry(value, encoding: encoding, maxBytes: maxBytes, to: &output)
        }
        output.append(UInt8(ascii: "]"))
        return output
    }

    /// `{"result": ...}` for a reply, `{"error": "..."}` for an error reply.
    static func entry(_ value: RedisValue, encoding: Encoding, maxBytes: Int = .max) throws(GatewayError) -> [UInt8] {
        var output: [UInt8] = []
        try appendEntry(value, encoding: encoding, maxBytes: maxBytes, to: &output)
        return output
    }

    /// The JSON of one reply.
    static func json(_ value: RedisValue, encoding: Encoding, maxBytes: Int = .max) throws(GatewayError) -> String {
        var output: [UInt8] = []
        try appendJSON(value, encoding: encoding, maxBytes: maxBytes, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func appendEntry(
        _ value: RedisValue, encoding: Encoding, maxBytes: Int, to output: inout [UInt8]
    ) throws(GatewayError) {
        if case .error(let message) = value {
            try reserve(message.utf8, encoding: .text, maxBytes: maxBytes, in: output)
            output.append(contentsOf: #"{"error":"#.utf8)
            JSONString.appendQuoted(message.utf8, to: &output)
        } else {
            output.append(contentsOf: #"{"result":"#.utf8)
            try appendJSON(value, encoding: encoding, maxBytes: maxBytes, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    private static func appendJSON(
        _ value: RedisValue, encoding: Encoding, maxBytes: Int, to output: inout [UInt8]
    ) throws(GatewayError) {
        switch value {
        case .integer(let number):
            output.append(contentsOf: String(number).utf8)
        case .null:
            output.append(contentsOf: "null".utf8)
        case .status(let text):
            try reserve(text.utf8, encoding: encoding, maxBytes: maxBytes, in: output)
            if encoding == .base64, text != "OK" {
                JSONString.appendQuoted(Data(text.utf8).base64EncodedString().utf8, to: &output)
            } else {
                JSONString.appendQuoted(text.utf8, to: &output)
            }
        case .bulk(let bytes):
            try reserve(bytes, encoding: encoding, maxBytes: maxBytes, in: output)
            switch encoding {
            case .base64:
                JSONString.appendQuoted(Data(bytes).base64EncodedString().utf8, to: &output)
            case .text where bytes.allSatisfy({ $0 < 0x80 }):
                JSONString.appendQuoted(bytes, to: &output)
            case .text:
                JSONString.appendQuoted(String(decoding: bytes, as: UTF8.self).utf8, to: &output)  // U+FFFD for invalid UTF-8
            }
        case .error(let message):
            try reserve(message.utf8, encoding: .text, maxBytes: maxBytes, in: output)
            JSONString.appendQuoted(message.utf8, to: &output)  // an error nested in an array reply: never encoded
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                try appendJSON(element, encoding: encoding, maxBytes: maxBytes, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
    }

    /// Throws 413 when `bytes`, rendered, would take `output` past `maxBytes`. The exact length is
    /// measured only when the worst case (6 bytes per byte) would not fit, so small values cost one
    /// comparison.
    private static func reserve(
        _ bytes: some Collection<UInt8>, encoding: Encoding, maxBytes: Int, in output: [UInt8]
    ) throws(GatewayError) {
        let room = maxBytes - output.count
        guard bytes.count.multipliedReportingOverflow(by: 6).partialValue + 2 > room else { return }
        let needed: Int
        switch encoding {
        case .base64: needed = (bytes.count + 2) / 3 * 4 + 2
        case .text where bytes.allSatisfy({ $0 < 0x80 }): needed = JSONString.quotedLength(bytes)
        case .text: needed = JSONString.quotedLength(String(decoding: bytes, as: UTF8.self).utf8)
        }
        if needed > room {
            throw .payloadTooLarge(
                "ERR the response would be larger than \(maxBytes) bytes (twice GATEWAY_MAX_REPLY_BYTES): ask for less, "
                    + "or for Upstash-Encoding: base64 or Upstash-Response-Format: resp2 when the values are binary")
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
