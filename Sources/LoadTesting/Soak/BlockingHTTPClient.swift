#if canImport(Glibc)
    import Glibc
#endif

/// One keep-alive HTTP/1.1 connection used in lock-step (send, read the whole answer), reopened
/// when the gateway closes it: the soak's callers. A missing answer after `timeout` is a failure,
/// never a wait without end.
///
/// Threading: used by one thread at a time.
final class BlockingHTTPClient {
    /// What one exchange gave.
    enum Outcome {
        /// An answer: status, headers (lower-cased names) and body.
        case answered(status: Int, headers: [(name: String, value: String)], body: [UInt8])
        /// No answer: why (refused, closed, timed out).
        case failed(String)
    }

    let target: LoadTarget
    let timeout: Duration
    private var socket: ClientSocket?
    private var buffer: [UInt8] = []

    init(target: LoadTarget, timeout: Duration = .seconds(15)) {
        self.target = target
        self.timeout = timeout
    }

    /// Sends `method path` with `body` and reads the answer.
    func exchange(_ method: String, _ path: String, body: [UInt8] = [], headers: String = "") -> Outcome {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(target.address):\(target.port)\r\n" + headers
        if method == "PUT" || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        do throws(LoadTestError) {
            let socket: ClientSocket
            if let open = self.socket {
                socket = open
            } else {
                socket = try ClientSocket(target: target, nonBlocking: false, timeoutSeconds: 1)
                self.socket = socket
            }
            var offset = 0
            while offset < request.count {
                guard let written = socket.write(request, from: offset), written > 0 else { return drop("the request could not be sent") }
                offset += written
            }
            let deadline = ContinuousClock.now + timeout
            while true {
                if let response = try ResponseParser.parse(buffer, headersWanted: true) {
                    let outcome = Outcome.answered(status: response.status, headers: response.headers, body: Array(response.body))
                    buffer.removeFirst(response.length)
                    if response.closes { _ = drop("") }
                    return outcome
                }
                guard let read = socket.read(into: &buffer) else { return drop("the gateway closed the connection without an answer") }
                if read == 0, ContinuousClock.now >= deadline { return drop("no answer within \(timeout)") }
            }
        } catch {
            return drop(error.description)
        }
    }

    private func drop(_ reason: String) -> Outcome {
        socket = nil
        buffer = []
        return .failed(reason)
    }
}
