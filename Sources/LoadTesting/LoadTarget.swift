/// Where the load goes: `http://host:port`, loopback only unless remote targets are allowed.
public struct LoadTarget: Sendable, Equatable, CustomStringConvertible {
    /// Numeric IPv4 address to connect to.
    public let address: String
    /// TCP port.
    public let port: Int

    /// Parses `http://HOST:PORT`; `localhost` means 127.0.0.1. Anything outside 127.0.0.0/8 is
    /// refused unless `allowRemote` (a load test must never hit someone else's server by accident).
    public init(parsing text: String, allowRemote: Bool = false) throws(LoadTestError) {
        guard text.hasPrefix("http://") else { throw LoadTestError("the target must be http://HOST:PORT, got '\(text)'") }
        var rest = text.dropFirst("http://".count)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port)
        else { throw LoadTestError("the target needs a port: http://HOST:PORT, got '\(text)'") }
        var host = String(rest[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        let octets = host.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { throw LoadTestError("the target host must be a numeric IPv4 address or localhost, got '\(host)'") }
        guard octets[0] == 127 || allowRemote else {
            throw LoadTestError("refusing to load \(host): not a loopback address (pass --allow-remote to load a remote host)")
        }
        self.address = host
        self.port = port
    }

    public var description: String { "http://\(address):\(port)" }
}

/// A load test that cannot run as asked.
public struct LoadTestError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) {
        self.description = description
    }
}
