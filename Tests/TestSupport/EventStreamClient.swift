import LoadTesting

/// A Server-Sent Events client over a real socket, for tests: sends one request, reads the status
/// and headers, then takes the chunked body apart into events (the text between blank lines, e.g.
/// `data: message,news,hello`; comment-only events such as `: heartbeat` are kept too).
///
/// The chunk framing and event boundaries are read by the load client's `EventStreamDecoder`.
///
/// Threading: one thread at a time.
public final class EventStreamClient: @unchecked Sendable {
    /// The socket (close it by dropping the client).
    public let socket: BlockingSocket
    /// The response status, -1 when none arrived.
    public private(set) var status = -1
    /// Header fields, names lower-cased.
    public private(set) var headers: [String: String] = [:]
    /// The body of a response that is not a stream (an error's JSON).
    public private(set) var errorBody: [UInt8] = []
    /// True once the stream's last chunk (or the connection's end) was read.
    public private(set) var ended = false

    private var raw: [UInt8] = []
    private var decoder = EventStreamDecoder(afterHead: true)
    private var events: [String] = []

    /// Connects to 127.0.0.1:`port` and sends `method target` with `Accept: text/event-stream`;
    /// nil when the connection is refused.
    public init?(
        port: Int, method: String = "GET", target: String, headers: [(String, String)] = [], body: String = "",
        receiveBufferBytes: Int? = nil, timeoutSeconds: Int = 10
    ) {
        guard let socket = BlockingSocket(port: port, timeoutSeconds: timeoutSeconds, receiveBufferBytes: receiveBufferBytes) else {
            return nil
        }
        self.socket = socket
        var request = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { request += "Content-Length: \(body.utf8.count)\r\n" }
        request += "\r\n" + body
        guard socket.write(Array(request.utf8)) else { return nil }
    }

    /// Reads the status line and headers (and, for a response that is not a stream, its body).
    @discardableResult
    public func readHead() -> Int {
        while status < 0 {
            if let end = find([13, 10, 13, 10], in: raw) {
                let head = String(decoding: raw[..<end], as: UTF8.self).split(separator: "\r\n")
                raw.removeFirst(end + 4)
                status = head.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? -1
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop { $0 == " " })
                }
                if let length = headers["content-length"].flatMap(Int.init) {
                    while raw.count < length, fill() {}
                    errorBody = Array(raw.prefix(length))
                    ended = true
                } else {
                    take(decoder.feed(raw))
                }
                raw = []
                break
            }
            if !fill() { break }
        }
        return status
    }

    /// The next event's text (its lines joined by `\n`), waiting for it; nil when the stream ended
    /// or nothing arrived within the socket timeout.
    public func next() -> String? {
        if status < 0 { readHead() }
        while events.isEmpty {
            guard !ended, !decoder.ended else {
                ended = true
                return nil
            }
            let received = socket.read()
            if received.isEmpty {
                ended = true
                return nil
            }
            take(decoder.feed(received))
        }
        return events.removeFirst()
    }

    /// Events until one satisfies `match` (returned, with the ones before it skipped); nil if none did.
    public func next(where match: (String) -> Bool) -> String? {
        while let event = next() {
            if match(event) { return event }
        }
        return nil
    }

    /// Reads every event until the stream ends.
    public func remaining() -> [String] {
        var all: [String] = []
        while let event = next() { all.append(event) }
        return all
    }

    // MARK: Private

    private func take(_ decoded: [[UInt8]]) {
        events += decoded.map { String(decoding: $0, as: UTF8.self) }
    }

    private func fill() -> Bool {
        let chunk = socket.read()
        if chunk.isEmpty { return false }
        raw += chunk
        return true
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return start }
        }
        return nil
    }
}
