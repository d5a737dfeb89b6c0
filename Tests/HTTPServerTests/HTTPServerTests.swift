import Dispatch
import HTTPServer
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The libmicrohttpd wrapper over real sockets.
@Suite struct HTTPServerTests {
    /// A server whose handler describes the request it received.
    func echoServer(maxBody: Int = 1 << 20) throws -> HTTPServer {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.workerThreads = 2
        configuration.maxBodyBytes = maxBody
        return try HTTPServer(configuration: configuration) { request in
            let query = request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
            let segments = request.pathSegments.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "|")
            let checksum = request.body.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) }
            let text = "\(request.method) \(segments) \(query) \(request.body.count) \(checksum) \(request.header("x-test") ?? "-")"
            return HTTPResponse(status: 200, headers: [("X-Echo", "yes")], body: Array(text.utf8))
        }
    }

    @Test func bindsAFreePortAndServesOverASocket() throws {
        let server = try echoServer()
        #expect(server.port > 0)
        let response = try #require(
            HTTPTestClient(port: server.port).request("GET", "/a%2Fb/c?x=1&y=two+words&flag", headers: [("X-Test", "h")]))
        #expect(response.status == 200)
        #expect(response.headers["x-echo"] == "yes")
        #expect(response.text == "GET a/b|c x=1&y=two words&flag= 0 0 h")
    }

    @Test func zeroWorkerThreadsMeansAThreadPerConnection() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.workerThreads = 0
        let server = try HTTPServer(configuration: configuration) { request in
            .json(200, bytes: Array(#"{"path":"\#(request.rawPath)"}"#.utf8))
        }
        let response = try #require(HTTPTestClient(port: server.port).request("GET", "/x"))
        #expect(response.text == #"{"path":"/x"}"#)
        server.shutdown(grace: .seconds(1))
    }

    @Test func connectionsAreDealtToTheWorkerThreadsInTurn() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.workerThreads = 3
        let served = Mutex<[UInt: Int]>([:])
        let server = try HTTPServer(configuration: configuration) { _ in
            served.withLock { $0[UInt(pthread_self()), default: 0] += 1 }
            return HTTPResponse(status: 200, headers: [], body: [])
        }
        // One connection per request, one after the other: libmicrohttpd's own pool would give each
        // to whichever thread woke first; the accepting thread deals them out evenly.
        for _ in 0..<12 { #expect(HTTPTestClient(port: server.port).request("GET", "/x")?.status == 200) }
        #expect(served.withLock { $0.values.sorted() } == [4, 4, 4], "\(served.withLock { $0 })")
        server.shutdown(grace: .seconds(1))
        #expect(HTTPTestClient(port: server.port).request("GET", "/x") == nil, "no longer accepting after shutdown")
    }

    @Test func gathersALargeBodyAcrossUploadCallbacks() throws {
        let server = try echoServer()
        let body = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let checksum = body.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) }
        let response = try #require(HTTPTestClient(port: server.port).request("PUT", "/upload", body: body))
        #expect(response.text == "PUT upload  700000 \(checksum) -")
    }

    @Test func aBodyOverTheLimitIs413WithAJSONError() throws {
        let server = try echoServer(maxBody: 1000)
        let response = try #require(HTTPTestClient(port: server.port).request("PUT", "/upload", body: [UInt8](repeating: 1, count: 1001)))
        #expect(response.status == 413)
        #expect(response.text.hasPrefix(#"{"error":"#))
        let exact = try #require(HTTPTestClient(port: server.port).request("PUT", "/upload", body: [UInt8](repeating: 1, count: 1000)))
        #expect(exact.status == 200)
    }

    /// libmicrohttpd answers these two itself, before any handler runs, with its own HTML body (it
    /// offers no hook to replace it): the statuses are right, the connection closes, and the server
    /// keeps serving. README's status table says so.
    @Test func anOversizedURLIs414AndOversizedHeadersAre431() throws {
        let server = try echoServer()
        let longURL = try #require(HTTPTestClient(port: server.port).request("GET", "/" + String(repeating: "u", count: 20_000)))
        #expect(longURL.status == 414)
        let bigHeader = try #require(
            HTTPTestClient(port: server.port).request("GET", "/x", headers: [("X-Big", String(repeating: "h", count: 70_000))]))
        #expect(bigHeader.status == 431)
        #expect(HTTPTestClient(port: server.port).request("GET", "/x")?.status == 200)
    }

    @Test func aMalformedEscapeIs400() throws {
        let server = try echoServer()
        let response = try #require(HTTPTestClient(port: server.port).request("GET", "/bad%zz"))
        #expect(response.status == 400)
    }

    @Test func headGetsHeadersWithoutABody() throws {
        let server = try echoServer()
        let response = try #require(HTTPTestClient(port: server.port).request("HEAD", "/x"))
        #expect(response.status == 200 && response.body.isEmpty)
    }

    @Test func aTakenPortIsAStartError() throws {
        let server = try echoServer()
        var configuration = HTTPServerConfiguration()
        configuration.port = server.port
        #expect(throws: HTTPServerError.self) { try HTTPServer(configuration: configuration) { _ in HTTPResponse(status: 200) } }
    }

    @Test func shutdownFinishesRequestsInFlightThenStopsListening() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.workerThreads = 2
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let server = try HTTPServer(configuration: configuration) { _ in
            entered.signal()
            release.wait()
            return .json(200, bytes: Array(#"{"done":true}"#.utf8))
        }
        let port = server.port
        let result = Mutex<TestResponse?>(nil)
        let client = TestThread { result.withLock { $0 = HTTPTestClient(port: port).request("GET", "/slow") } }
        client.start()
        entered.wait()
        let stopper = TestThread { server.shutdown(grace: .seconds(5)) }
        stopper.start()
        // Let the request finish only once the server has stopped accepting new connections.
        var refused = false
        for _ in 0..<5000 where !refused { refused = BlockingSocket(port: port) == nil }
        #expect(refused, "quiesced: new connections are refused while the request is in flight")
        release.signal()
        stopper.join()
        client.join()
        #expect(result.withLock { $0?.status } == 200, "the request in flight was answered")
        #expect(HTTPTestClient(port: port).request("GET", "/after") == nil, "no longer listening")
    }

    @Test func duringTheDrainOpenConnectionsAreServedWithCloseAndPastTheDeadlineGet503() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.workerThreads = 0  // a thread per connection: none waits behind the blocked /slow handler
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let server = try HTTPServer(configuration: configuration) { request in
            if request.rawPath == "/slow" {
                entered.signal()
                release.wait()
            }
            return .json(200, bytes: Array(#"{"path":"\#(request.rawPath)"}"#.utf8))
        }
        let port = server.port
        // Two keep-alive connections, opened and used before the shutdown begins.
        let early = try #require(KeepAliveConnection(port: port))
        let late = try #require(KeepAliveConnection(port: port))
        #expect(early.get("/warm")?.status == 200)
        #expect(late.get("/warm")?.status == 200)
        let slow = Mutex<TestResponse?>(nil)
        let client = TestThread { slow.withLock { $0 = HTTPTestClient(port: port).request("GET", "/slow") } }
        client.start()
        entered.wait()
        let stopper = TestThread { server.shutdown(grace: .milliseconds(300)) }
        stopper.start()
        #expect(eventually { server.phase == .draining })
        let duringDrain = early.get("/during")
        #expect(duringDrain?.status == 200, "a request on an open connection is still served while draining")
        #expect(duringDrain?.headers["connection"]?.lowercased() == "close")
        // The slow request outlives the 300 ms grace: the server now refuses what still arrives.
        #expect(eventually { server.phase == .refusing })
        let pastDeadline = late.get("/late")
        #expect(pastDeadline?.status == 503)
        #expect(pastDeadline?.text.contains("shutting down") == true)
        release.signal()
        stopper.join()
        client.join()
        #expect(slow.withLock { $0?.status } == 200, "the request in flight was still answered")
    }

    @Test(.timeLimit(.minutes(1)))
    func aRequestAnsweredLaterDoesNotHoldItsWorkerThread() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.workerThreads = 1  // one thread serves every connection
        let slowAnswered = Atomic<Bool>(false)
        let slowArrived = Atomic<Bool>(false)
        let server = try HTTPServer(configuration: configuration) { request, responder in
            guard request.rawPath == "/slow" else {
                return responder.respond(HTTPResponse(status: 200, body: Array("fast".utf8)))
            }
            slowArrived.store(true, ordering: .relaxed)
            let thread = TestThread {
                usleep(300_000)
                slowAnswered.store(true, ordering: .relaxed)
                responder.respond(HTTPResponse(status: 200, body: Array("slow".utf8)))
                responder.respond(HTTPResponse(status: 500))  // a second answer is ignored
            }
            thread.start()
        }
        let slow = Mutex<TestResponse?>(nil)
        let waiting = TestThread { slow.withLock { $0 = HTTPTestClient(port: server.port).request("GET", "/slow") } }
        waiting.start()
        #expect(eventually { slowArrived.load(ordering: .relaxed) }, "the slow request is being handled")
        let fast = try #require(HTTPTestClient(port: server.port).request("GET", "/fast"))
        #expect(fast.text == "fast")
        let slowWasAnswered = slowAnswered.load(ordering: .relaxed)
        #expect(!slowWasAnswered, "the fast request was served while the slow one waited")
        waiting.join()
        #expect(slow.withLock { $0?.text } == "slow")
        #expect(slow.withLock { $0?.status } == 200)
        server.shutdown(grace: .seconds(1))
    }
}
