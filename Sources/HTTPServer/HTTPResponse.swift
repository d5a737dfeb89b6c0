/// An HTTP response: status, header fields and body bytes.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields in order (Content-Length is added by the server).
    public var headers: [(name: String, value: String)]
    /// The body bytes.
    public var body: [UInt8]
    /// When set, the body is this stream instead (written as it is fed, chunked, until it finishes).
    public var stream: HTTPStream?

    /// A response from its parts.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `200` whose body is `stream`, with `headers`.
    public static func streaming(_ stream: HTTPStream, headers: [(name: String, value: String)]) -> HTTPResponse {
        var response = HTTPResponse(status: 200, headers: headers)
        response.stream = stream
        return response
    }

    /// A JSON response with `object` as the body.
    public static func json(_ status: Int, _ object: JSONObject, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        json(status, bytes: object.bytes, headers: headers)
    }

    /// A JSON response whose body `bytes` is already JSON.
    public static func json(_ status: Int, bytes: [UInt8], headers: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: bytes)
    }

    /// A JSON error response: `{"error": message}`, with `extra` members after it.
    public static func error(
        _ status: Int, _ message: String, extra: JSONObject = JSONObject(), headers: [(name: String, value: String)] = []
    ) -> HTTPResponse {
        var body = JSONObject()
        body.add("error", string: message)
        body.merge(extra)
        return json(status, body, headers: headers)
    }

    /// The first header field named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }
}
