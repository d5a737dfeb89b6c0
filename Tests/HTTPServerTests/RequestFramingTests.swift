import HTTPServer
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What reaches a handler, and what never does, when a request's framing is odd, its body too
/// large or its bytes too slow: raw bytes over real sockets to a real libmicrohttpd.
@Suite struct RequestFramingTests {
    /// What the handler saw.
    final class Seen: Sendable {
        let handled = Mutex<[String]>([])
        let streamsClosed = Atomic<Int>(0)
    }

    /// A server counting the requests its handler sees; `/stream` answers an event stream.
    final class CountingServer: Sendable {
        let server: HTTPServer
        let seen = Seen()

        init(maxBody: Int = 100_000, requestTimeoutMilliseconds: Int = 30_000) throws {
            var configuration = HTTPServerConfiguration()
            configuration.port = 0
            configuration.workerThreads = 2
            configuration.maxBodyBytes = maxBody
            configuration.requestTimeoutMilliseconds = requestTimeoutMilliseconds
            let seen = seen
            server = try HTTPServer(configuration: configuration) { request in
                seen.handled.withLock { $0.append("\(request.method) \(request.rawPath)") }
                if request.rawPath == "/stream" {
                    let stream = HTTPStream(capacity: 1024)
                    stream.onClose { seen.streamsClosed.add(1, ordering: .relaxed) }
                    _ = stream.send(Array("data: hello\n\n".utf8))
                    return .streaming(stream, headers: [("Content-Type", "text/event-stream")])
                }
                return HTTPResponse(status: 200, headers: [], body: Array("ok \(request.body.count)".utf8))
            }
        }

        deinit { server.shutdown(grace: .seconds(1)) }

        var port: Int { server.port }
        var handled: [String] { seen.handled.withLock { $0 } }
        var streamsClosed: Int { seen.streamsClosed.load(ordering: .relaxed) }
    }

    /// Writes `bytes` and reads until the server closes (at most 5 s).
    func exchange(_ bytes: String, port: Int) throws -> [UInt8] {
        let socket = try #require(BlockingSocket(port: port, timeoutSeconds: 5))
        #expect(socket.write(Array(bytes.utf8)))
        return socket.readToEnd()
    }

    /// The status of the first response in `raw`, and whether its Content-Length is its body's.
    func firstResponse(_ raw: [UInt8]) -> TestResponse? {
        HTTPTestClient.parse(raw)
    }

    static let refused: [(String, String)] = [
        (
            "Content-Length with Transfer-Encoding, a request smuggled in the body",
            "POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"
        ),
        (
            "two differing Content-Length",
            "POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 41\r\n\r\nokGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        ),
        ("two equal Content-Length", "POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
        ("a space before the colon", "POST /a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding : chunked\r\nContent-Length: 2\r\n\r\nok"),
        ("a coding other than chunked", "POST /a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        (
            "two Transfer-Encoding",
            "POST /a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
        ("HTTP/1.1 without Host", "GET /a HTTP/1.1\r\n\r\n"),
        ("two Host", "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ]

    @Test(arguments: refused)
    func framingAProxyCouldReadOtherwiseIs400AndCloses(_ name: String, _ request: String) throws {
        let server = try CountingServer()
        let raw = try exchange(request, port: server.port)
        let response = try #require(firstResponse(raw), "\(name): no response")
        #expect(response.status == 400, "\(name)")
        #expect(response.text.hasPrefix(#"{"error":"malformed request: "#), "\(name): \(response.text)")
        #expect(response.body.count == Int(response.headers["content-length"] ?? "") ?? -1)
        #expect(response.headers["connection"] == "close")
        // readToEnd returned: the server closed the connection; nothing after the 400 was served.
        #expect(String(decoding: raw, as: UTF8.self).ranges(of: "\nHTTP/1.1 ").isEmpty, "\(name): one response only")
        #expect(server.handled.isEmpty, "\(name): the handler saw \(server.handled)")
    }

    /// libmicrohttpd refuses a list-valued or signed Content-Length itself, before any handler
    /// (with its own HTML body, and in 0.9.75 its header block twice); the connection closes.
    @Test(arguments: ["2, 2", "+2", "0x2"])
    func aContentLengthThatIsNotANumberIsRefusedByLibmicrohttpd(_ length: String) throws {
        let server = try CountingServer()
        let raw = try exchange("POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(length)\r\n\r\nok", port: server.port)
        #expect(firstResponse(raw)?.status == 400)
        #expect(server.handled.isEmpty)
    }

    @Test func wellFramedRequestsAreServed() throws {
        let server = try CountingServer()
        let plain = try #require(firstResponse(try exchange("GET /a HTTP/1.0\r\n\r\n", port: server.port)))
        #expect(plain.status == 200, "HTTP/1.0 needs no Host")
        let chunked = try exchange(
            "POST /c HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            port: server.port)
        #expect(firstResponse(chunked)?.text == "ok 2")
        #expect(server.handled == ["GET /a", "POST /c"])
    }

    /// What libmicrohttpd 0.9.75 hides from the gateway, pinned down so a change shows: bare-LF
    /// line endings are accepted, and an obs-fold continuation is glued onto the field's name, so
    /// a folded `Transfer-Encoding` is never obeyed (the request is framed by its Content-Length).
    @Test func bareLineFeedsAreAcceptedAndAFoldedTransferEncodingIsIgnored() throws {
        let server = try CountingServer()
        let bare = try exchange("GET /bare HTTP/1.1\nHost: localhost\nConnection: close\n\n", port: server.port)
        #expect(firstResponse(bare)?.status == 200)
        let folded = try exchange(
            "POST /folded HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n x\r\nConnection: close\r\n\r\nok",
            port: server.port)
        #expect(firstResponse(folded)?.text == "ok 2", "framed by Content-Length")
        #expect(server.handled == ["GET /bare", "POST /folded"])
    }

    /// The review's 6 GB chunked body read whole before a 413: now the 413 comes at the limit and
    /// the rest is never read.
    @Test func aChunkedBodyOverTheLimitIs413AndTheRestIsNeverRead() throws {
        let server = try CountingServer(maxBody: 100_000)
        let socket = try #require(BlockingSocket(port: server.port, timeoutSeconds: 5))
        #expect(socket.write(Array("POST /big HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)))
        let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 0x78, count: 0x10000) + Array("\r\n".utf8)
        var sent = 0
        while sent < 256 << 20, socket.write(chunk) { sent += chunk.count }
        #expect(sent < 64 << 20, "the server kept reading: \(sent) bytes accepted")
        let response = try #require(firstResponse(socket.readToEnd()))
        #expect(response.status == 413)
        #expect(response.text == #"{"error":"request body larger than 100000 bytes"}"#)
        #expect(response.headers["connection"] == "close")
        #expect(server.handled.isEmpty)
        #expect(HTTPTestClient(port: server.port).request("GET", "/after")?.status == 200)
    }

    /// One byte every 50 ms, in the headers or in the body: answered 408 at the request timeout,
    /// whatever libmicrohttpd's idle timeout (reset by every byte) would allow.
    @Test(arguments: [
        ("GET /slow HTTP/1.1\r\n", "X-Slow: one-byte-at-a-time-and-never-done\r\n"),
        ("POST /slow HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n", String(repeating: "b", count: 1000)),
    ])
    func aRequestTricklingInIsAnswered408AtTheRequestTimeout(_ head: String, _ trickle: String) throws {
        let server = try CountingServer(requestTimeoutMilliseconds: 500)
        let socket = try #require(BlockingSocket(port: server.port, timeoutSeconds: 5))
        let clock = ContinuousClock()
        let started = clock.now
        #expect(socket.write(Array(head.utf8)))
        for byte in trickle.utf8 {
            guard socket.write([byte]), !socket.becomesReadable(within: 50) else { break }
        }
        let elapsed = clock.now - started
        let response = try #require(firstResponse(socket.readToEnd()))
        #expect(response.status == 408)
        #expect(response.text.hasPrefix(#"{"error":"#))
        #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(3), "answered after \(elapsed)")
        #expect(server.handled.isEmpty)
        #expect(server.server.requestsTimedOut == 1)
    }

    /// The bound is on a request's arrival, not on a connection's idle time between requests.
    @Test func anIdleKeepAliveConnectionOutlivesTheRequestTimeout() throws {
        let server = try CountingServer(requestTimeoutMilliseconds: 300)
        let socket = try #require(BlockingSocket(port: server.port, timeoutSeconds: 5))
        let request = Array("GET /one HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        #expect(socket.write(request))
        #expect(String(decoding: socket.read(), as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        #expect(!socket.becomesReadable(within: 800), "closed while idle")
        #expect(socket.write(request))
        #expect(String(decoding: socket.read(), as: UTF8.self).hasPrefix("HTTP/1.1 200"))
    }

    /// HEAD on an event stream: headers only, the stream ended, and the connection still frames the
    /// next request (libmicrohttpd 0.9.75 would send a chunked body after a HEAD).
    @Test func headOnAStreamSendsNoBodyAndKeepsTheConnectionUsable() throws {
        let server = try CountingServer()
        let socket = try #require(BlockingSocket(port: server.port, timeoutSeconds: 5))
        #expect(
            socket.write(
                Array(
                    "HEAD /stream HTTP/1.1\r\nHost: localhost\r\n\r\nGET /next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                        .utf8)))
        let raw = String(decoding: socket.readToEnd(), as: UTF8.self)
        let responses = raw.split(separator: "HTTP/1.1 ").map(String.init)
        #expect(responses.count == 2, "\(raw)")
        #expect(responses.first?.hasPrefix("200") == true && responses.first?.hasSuffix("\r\n\r\n") == true, "no body after HEAD: \(raw)")
        #expect(!raw.contains("data: hello") && !raw.contains("\r\n0\r\n\r\n"))
        #expect(responses.last?.hasSuffix("ok 0") == true)
        #expect(server.streamsClosed == 1)
    }
}
