import CoreUtilities

/// The checks on a request's framing that libmicrohttpd 0.9.75 does not make, applied to the
/// header fields it parsed (before any body is read). A request another server in front of the
/// gateway could frame differently is refused, so one connection can never carry a request that
/// the gateway and a proxy disagree about (request smuggling).
///
/// Refused with 400 (and the connection closed):
/// - `Content-Length` together with `Transfer-Encoding`; several `Content-Length` or
///   `Transfer-Encoding` fields, even equal ones; a `Content-Length` that is not all digits;
///   a `Transfer-Encoding` other than exactly `chunked` (libmicrohttpd reads any other coding as a
///   body that ends when the client closes);
/// - a field name that is not an RFC 9110 token: `Transfer-Encoding : chunked` arrives as the name
///   `Transfer-Encoding ` (with the space), which libmicrohttpd would not frame by;
/// - HTTP/1.1 without exactly one `Host`.
///
/// What libmicrohttpd 0.9.75 hides and cannot be checked here: bare-LF line endings (accepted and
/// not recorded) and obs-fold continuation lines (their text is glued onto the field's *name*, so
/// `Transfer-Encoding: chunked` folded becomes an unknown field and the request is framed by
/// `Content-Length`, or has no body). `Content-Length: 8, 8` is refused by libmicrohttpd itself.
enum RequestFraming {
    /// Why the request must be refused, or nil.
    static func problem(headers: [(name: String, value: String)], version: String) -> String? {
        var contentLengths = 0
        var transferEncodings = 0
        var hosts = 0
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
                return "malformed header field name \(JSONString.quote(name))"
            }
            if ASCIICase.equals(name, lowercase: "content-length") {
                contentLengths += 1
                if value.isEmpty || !value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                    return "Content-Length must be digits, got \(JSONString.quote(value))"
                }
            } else if ASCIICase.equals(name, lowercase: "transfer-encoding") {
                transferEncodings += 1
                if !ASCIICase.equals(value, lowercase: "chunked") {
                    return "Transfer-Encoding must be chunked, got \(JSONString.quote(value))"
                }
            } else if ASCIICase.equals(name, lowercase: "host") {
                hosts += 1
            }
        }
        if contentLengths > 1 { return "several Content-Length fields" }
        if transferEncodings > 1 { return "several Transfer-Encoding fields" }
        if contentLengths > 0, transferEncodings > 0 { return "Content-Length together with Transfer-Encoding" }
        if version == "HTTP/1.1", hosts != 1 { return hosts == 0 ? "HTTP/1.1 without Host" : "several Host fields" }
        if hosts > 1 { return "several Host fields" }
        return nil
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
