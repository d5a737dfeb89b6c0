/// A response as a test sees it.
public struct TestResponse: Sendable {
    /// Status code.
    public var status: Int
    /// Header fields, names lower-cased.
    public var headers: [String: String]
    /// Body bytes.
    public var body: [UInt8]

    /// A response from its parts.
    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A minimal HTTP/1.1 client over a real socket: one request per connection (`Connection: close`).
public struct HTTPTestClient: Sendable {
    /// The server's port on 127.0.0.1.
    public let port: Int

    /// A client for 127.0.0.1:`port`.
    public init(port: Int) {
        self.port = port
    }

    /// Sends one request and reads the whole response; nil when the connection fails.
    public func request(
        _ method: String,
        _ target: String,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) -> TestResponse? {
        guard let socket = BlockingSocket(port: port) else { return nil }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "PUT" || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        guard socket.write(Array(head.utf8) + body) else { return nil }
        return Self.parse(socket.readToEnd())
    }

    /// Shorthand for `request` with a text body.
    public func request(_ method: String, _ target: String, text: String, headers: [(String, String)] = []) -> TestResponse? {
        request(method, target, headers: headers, body: Array(text.utf8))
    }

    /// Parses one whole response (head and body).
    public static func parse(_ raw: [UInt8]) -> TestResponse? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = raw.firstRange(of: separator) else { return nil }
        let head = String(decoding: raw[..<end.lowerBound], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            // A field sent more than once (Vary) reads as one list, as HTTP combines them.
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingPrefix(" ").description
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        return TestResponse(status: status, headers: headers, body: Array(raw[end.upperBound...]))
    }
}
