import CoreUtilities
import HTTPServer

/// With authentication off the gateway serves only local, non-browser callers, as Redis' protected
/// mode does: a request naming a `Host` other than a loopback name (DNS rebinding), or carrying
/// `Origin` or `Sec-Fetch-Site: cross-site` (a web page's fetch, form or image), is refused, so a
/// page in the operator's browser cannot reach Redis through the gateway.
enum LocalCaller {
    /// Throws `.forbidden` unless `request` comes from a local, non-browser caller.
    static func check(_ request: HTTPRequest) throws(GatewayError) {
        if request.header("origin") != nil {
            throw .forbidden("NOPERM authentication is off, so requests from web pages (with Origin) are refused; configure GATEWAY_TOKENS")
        }
        if let site = request.header("sec-fetch-site"), ASCIICase.lowercased(site) == "cross-site" {
            throw .forbidden("NOPERM authentication is off, so cross-site requests are refused; configure GATEWAY_TOKENS")
        }
        guard let host = request.header("host"), isLoopbackName(host) else {
            throw .forbidden(
                "NOPERM authentication is off, so only Host: localhost, 127.0.0.1 or [::1] is served; configure GATEWAY_TOKENS")
        }
    }

    /// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
    static func isLoopbackName(_ host: String) -> Bool {
        var name = Substring(ASCIICase.lowercased(host))
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let rest = name[name.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isNumber)) else { return false }
            return name[name.index(after: name.startIndex)..<close] == "::1"
        }
        if let colon = name.lastIndex(of: ":") {
            guard name[name.index(after: colon)...].allSatisfy(\.isNumber) else { return false }
            name = name[..<colon]
        }
        if name == "localhost" || name == "localhost." { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { part in UInt8(part).map { _ in true } ?? false }
    }

    /// Whether `address` (the numeric address the gateway listens on) is a loopback address.
    static func isLoopbackAddress(_ address: String) -> Bool {
        address == "::1" || (address.hasPrefix("127.") && isLoopbackName(address))
    }
}
