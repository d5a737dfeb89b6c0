import CMicroHTTPD

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
    /// Why the request on `connection` (its header fields parsed, no body read yet) must be
    /// refused, or nil. The checks run in the C shim (`gw_mhd_framing_problem`), over the fields as
    /// libmicrohttpd holds them: a Swift pass over the same fields cost 2,000 instructions a request.
    static func problem(on connection: OpaquePointer, version: UnsafePointer<CChar>?) -> String? {
        switch Int(gw_mhd_framing_problem(connection, version)) {
        case Int(GW_MHD_FRAMING_OK): nil
        case Int(GW_MHD_FRAMING_BAD_NAME): "a header field name that is not a token (a space before the colon?)"
        case Int(GW_MHD_FRAMING_BAD_LENGTH): "Content-Length must be digits"
        case Int(GW_MHD_FRAMING_BAD_CODING): "Transfer-Encoding must be chunked"
        case Int(GW_MHD_FRAMING_SEVERAL_LENGTHS): "several Content-Length fields"
        case Int(GW_MHD_FRAMING_SEVERAL_CODINGS): "several Transfer-Encoding fields"
        case Int(GW_MHD_FRAMING_LENGTH_AND_CODING): "Content-Length together with Transfer-Encoding"
        case Int(GW_MHD_FRAMING_NO_HOST): "HTTP/1.1 without Host"
        case Int(GW_MHD_FRAMING_SEVERAL_HOSTS): "several Host fields"
        default: "malformed framing"
        }
    }
}
