import Foundation

/// Server-Sent Events as the Upstash REST API writes them: one event per message, its fields
/// joined by commas on `data:` lines (`message,<channel>,<payload>`), a blank line after each.
///
/// A field that contains a line break is split over several `data:` lines, as the SSE rules say:
/// a client following them (`EventSource`) joins the lines with `\n`, so a payload with `\n`
/// arrives whole. `\r\n` and a lone `\r` are line breaks to SSE too and arrive as `\n`; callers
/// who need the exact bytes ask for base64 payloads.
enum ServerSentEvent {
    /// `data: <fields joined by ','>` and the blank line that ends the event.
    static func data(_ fields: [[UInt8]]) -> [UInt8] {
        named(nil, fields)
    }

    /// The same with an `event: <name>` line first (the gateway's own notices, which `EventSource`
    /// clients see only when they listen for that name).
    static func named(_ name: String?, _ fields: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(16) { $0 + $1.count + 1 } + (name.map { $0.utf8.count + 8 } ?? 0))
        if let name {
            bytes.append(contentsOf: "event: ".utf8)
            bytes.append(contentsOf: name.utf8)
            bytes.append(newline)
        }
        bytes.append(contentsOf: "data: ".utf8)
        var previous: UInt8 = 0
        for (index, field) in fields.enumerated() {
            if index > 0 {
                bytes.append(UInt8(ascii: ","))
                previous = UInt8(ascii: ",")
            }
            for byte in field {
                switch byte {
                case newline where previous == carriageReturn:
                    break  // the second half of \r\n: one break
                case newline, carriageReturn:
                    bytes.append(contentsOf: "\ndata: ".utf8)
                default:
                    bytes.append(byte)
                }
                previous = byte
            }
        }
        bytes.append(contentsOf: "\n\n".utf8)
        return bytes
    }

    /// `bytes` in base64 (for `Upstash-Encoding: base64` streams: exact bytes, no line breaks).
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        Array(Data(bytes).base64EncodedString().utf8)
    }

    /// A comment line: ignored by clients, it keeps proxies from closing an idle stream.
    static let heartbeat: [UInt8] = Array(": heartbeat\n\n".utf8)

    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
}
