/// One keep-alive HTTP/1.1 connection for several requests in a row (bodies sized by Content-Length).
public final class KeepAliveConnection {
    private let socket: BlockingSocket
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; nil if refused.
    public init?(port: Int) {
        guard let socket = BlockingSocket(port: port, timeoutSeconds: 5) else { return nil }
        self.socket = socket
    }

    /// Sends `GET target` and reads one response; nil if the connection broke.
    public func get(_ target: String) -> TestResponse? {
        guard socket.write(Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)) else { return nil }
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = buffer.firstRange(of: separator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingPrefix(" ")) } ?? 0
                if buffer.count >= end.upperBound + length {
                    let raw = Array(buffer[..<(end.upperBound + length)])
                    buffer.removeFirst(end.upperBound + length)
                    return HTTPTestClient.parse(raw)
                }
            }
            let chunk = socket.read()
            if chunk.isEmpty { return nil }
            buffer += chunk
        }
    }
}
