/// Finds complete HTTP/1.1 responses in a byte buffer (Content-Length bodies; the gateway never
/// sends chunked ones).
enum ResponseParser {
    /// A complete response at the start of a buffer.
    struct Response {
        let status: Int
        let headers: [(name: String, value: String)]
        let body: ArraySlice<UInt8>
        /// Bytes the response took up in the buffer.
        let length: Int
        let closes: Bool

        func header(_ name: String) -> String? {
            headers.first { $0.name == name }?.value
        }
    }

    /// The first complete response in `buffer`, nil when more bytes are needed; throws for bytes
    /// that are not HTTP.
    static func parse(_ buffer: [UInt8], headersWanted: Bool = false) throws(LoadTestError) -> Response? {
        guard let headerEnd = find(buffer) else {
            if buffer.count > 65536 { throw LoadTestError("response header larger than 64 KiB") }
            return nil
        }
        // "HTTP/1.1 200 OK": the status is bytes 9..<12.
        guard headerEnd >= 12, buffer[0] == UInt8(ascii: "H"), let status = Int(String(decoding: buffer[9..<12], as: UTF8.self))
        else { throw LoadTestError("not an HTTP response") }
        var contentLength = 0
        var closes = false
        var headers: [(name: String, value: String)] = []
        var lineStart = 0
        while lineStart < headerEnd {
            let lineEnd = buffer[lineStart..<headerEnd].firstIndex(of: 13) ?? headerEnd
            if lineStart > 0, let colon = buffer[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: ":")) {
                var valueStart = colon + 1
                while valueStart < lineEnd, buffer[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
                let name = buffer[lineStart..<colon]
                if equalsIgnoringCase(name, "content-length") {
                    contentLength = digits(buffer[valueStart..<lineEnd])
                } else if equalsIgnoringCase(name, "connection") {
                    closes = equalsIgnoringCase(buffer[valueStart..<lineEnd], "close")
                }
                if headersWanted {
                    headers.append(
                        (String(decoding: name, as: UTF8.self).lowercased(), String(decoding: buffer[valueStart..<lineEnd], as: UTF8.self)))
                }
            }
            lineStart = lineEnd + 2
        }
        let total = headerEnd + 4 + contentLength
        guard buffer.count >= total else { return nil }
        return Response(status: status, headers: headers, body: buffer[(headerEnd + 4)..<total], length: total, closes: closes)
    }

    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            zip(bytes, expected).allSatisfy { ($0 | 0x20) == $1 }
        }
    }

    private static func digits(_ bytes: ArraySlice<UInt8>) -> Int {
        var value = 0
        for byte in bytes where (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// The index of the `\r\n\r\n` that ends the header, if present.
    private static func find(_ buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        var index = 0
        while index + 3 < buffer.count {
            if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13, buffer[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }
}
