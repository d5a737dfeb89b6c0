import CMicroHTTPD
import CoreUtilities
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// libmicrohttpd's daemon and its access-handler trampoline: the only file of the HTTP layer that
/// touches C pointers. It turns libmicrohttpd's callbacks into `HTTPRequest`s for `handler` and
/// queues the `HTTPResponse`s it returns.
///
/// Threading: callbacks run on libmicrohttpd's worker threads, many at once; `handler` must be
/// thread-safe. Lifecycle: running from `init` until `stop()`; `stop()` is idempotent.
final class MicroHTTPDaemon: Sendable {
    /// What serves the connections: libmicrohttpd's own daemon (with its thread pool, or a thread
    /// per connection), or a group of one daemon per worker thread fed in turn by one accepting
    /// thread (`gw_mhd_group`). Pointers as addresses, so the Mutex holds a Sendable value.
    private enum Handle: Sendable {
        case daemon(Int)
        case group(Int)

        /// `daemon` on libmicrohttpd's own daemon, `group` on a group: the one place a handle turns
        /// back into its pointer (never null: handles are made only from started daemons).
        func with<T>(daemon: (OpaquePointer) -> T, group: (UnsafeMutablePointer<gw_mhd_group>) -> T) -> T {
            switch self {
            case .daemon(let address): daemon(OpaquePointer(bitPattern: address)!)
            case .group(let address): group(UnsafeMutablePointer(bitPattern: address)!)
            }
        }
    }

    /// nil once stopped.
    private let daemon: Mutex<Handle?>
    private let core: DaemonCore
    /// The port the daemon listens on.
    let port: Int
    /// What HTTPS handshakes present; nil for plain HTTP.
    let certificate: HTTPSCertificate?

    init(configuration: HTTPServerConfiguration, handler: @escaping Router.AsyncHandler) throws(HTTPServerError) {
        if let certificateFile = configuration.tlsCertificateFile {
            guard let keyFile = configuration.tlsKeyFile else {
                throw HTTPServerError(description: "HTTPS needs a key file as well as the certificate \(certificateFile)")
            }
            certificate = try HTTPSCertificate(
                certificateFile: certificateFile, keyFile: keyFile, clientCAFile: configuration.tlsClientCAFile)
        } else {
            guard configuration.tlsKeyFile == nil, configuration.tlsClientCAFile == nil else {
                throw HTTPServerError(description: "HTTPS needs a certificate file (and its key) before a key or a client CA file")
            }
            certificate = nil
        }
        guard
            let watchdog = gw_mhd_watchdog_start(
                UInt32(clamping: configuration.connectionTimeoutSeconds), UInt32(clamping: configuration.requestTimeoutMilliseconds))
        else {
            throw HTTPServerError(description: "cannot start the request watchdog thread")
        }
        let core = DaemonCore(
            maxBodyBytes: configuration.maxBodyBytes, threadPerConnection: configuration.resolvedWorkerThreads == 0,
            watchdog: Int(bitPattern: watchdog), handler: handler)
        let context = Unmanaged.passUnretained(core).toOpaque()
        // Connections handed to the workers in turn, unless libmicrohttpd must count them per
        // address across threads (its own pool) or each gets a thread of its own.
        let roundRobin = configuration.resolvedWorkerThreads >= 2 && configuration.perAddressConnectionLimit == 0
        let clientCA = certificate?.clientCA ?? []
        let started: Handle? = clientCA.withUnsafeBufferPointer { clientCABytes in
            configuration.host.withCString { host in
                var settings = gw_mhd_settings(
                    host: host,
                    port: UInt16(clamping: configuration.port),
                    thread_pool_size: UInt32(clamping: max(configuration.resolvedWorkerThreads, 0)),
                    connection_limit: UInt32(clamping: configuration.connectionLimit),
                    per_ip_connection_limit: UInt32(clamping: configuration.perAddressConnectionLimit),
                    connection_timeout_s: UInt32(clamping: configuration.connectionTimeoutSeconds),
                    connection_memory_limit: max(configuration.connectionMemoryBytes, 4096),
                    use_poll: configuration.usesPoll ? 1 : 0,
                    watchdog: watchdog,
                    https_certificate: configuration.usesTLS ? HTTPSCertificate.callback : nil,
                    https_client_ca: clientCABytes.isEmpty ? nil : clientCABytes.baseAddress
                )
                if roundRobin {
                    return gw_mhd_group_start(&settings, accessHandler, context, requestCompleted, context)
                        .map { .group(Int(bitPattern: $0)) }
                }
                return gw_mhd_start(&settings, accessHandler, context, requestCompleted, context).map { .daemon(Int(bitPattern: $0)) }
            }
        }
        guard let started else {
            gw_mhd_watchdog_stop(watchdog)
            throw HTTPServerError(
                description: "cannot listen on \(configuration.host):\(configuration.port) "
                    + "(address in use, not a numeric address, or not permitted)")
        }
        self.core = core
        self.daemon = Mutex(started)
        self.port = started.with(daemon: { Int(gw_mhd_bound_port($0)) }, group: { Int(gw_mhd_group_port($0)) })
        certificate?.register(port: port)
    }

    deinit {
        stop()
    }

    /// Connections closed because a request did not arrive in time (`requestTimeoutMilliseconds`).
    var requestsTimedOut: Int {
        Int(gw_mhd_watchdog_timed_out(core.watchdogPointer))
    }

    /// Connections the accepting thread refused over the limit (0 with libmicrohttpd's own pool).
    var connectionsRefused: Int {
        daemon.withLock { daemon in daemon?.with(daemon: { _ in 0 }, group: { Int(gw_mhd_group_refused($0)) }) ?? 0 }
    }

    /// Requests being served now (from their first callback until they completed).
    var requestsInFlight: Int {
        core.inFlight.load(ordering: .relaxed)
    }

    /// Client connections open now.
    var openConnections: Int {
        daemon.withLock { daemon in
            daemon?.with(daemon: { Int(gw_mhd_current_connections($0)) }, group: { Int(gw_mhd_group_connections($0)) }) ?? 0
        }
    }

    /// Time since a request last started or completed.
    var quietFor: Duration {
        .nanoseconds(DispatchTime.now().uptimeNanoseconds - core.lastActivity.load(ordering: .relaxed))
    }

    /// Where the daemon is in its shutdown.
    var phase: HTTPServerPhase {
        HTTPServerPhase(rawValue: core.phase.load(ordering: .relaxed)) ?? .serving
    }

    /// Stops accepting new connections; requests on open ones are still served, each answered with
    /// `Connection: close` so clients move to another server.
    func quiesce() {
        core.phase.store(HTTPServerPhase.draining.rawValue, ordering: .relaxed)
        daemon.withLock { daemon in
            daemon?.with(
                daemon: { pointer in
                    let listener = MHD_quiesce_daemon(pointer)
                    if listener >= 0 { close(listener) }  // quiescing hands the listening socket to us
                }, group: { gw_mhd_group_quiesce($0) })
        }
    }

    /// From now on every request that arrives gets a 503 at once (the drain deadline passed).
    func refuseRequests() {
        core.phase.store(HTTPServerPhase.refusing.rawValue, ordering: .relaxed)
    }

    /// Streams whose connection is still open.
    var openStreams: Int {
        core.streams.withLock { $0.count }
    }

    /// Stops the daemon: ends every open stream (libmicrohttpd must not stop with a connection
    /// suspended), waits up to a second for them to close, then closes every connection and joins
    /// the worker threads.
    func stop() {
        for stream in core.streams.withLock({ Array($0.values) }) { stream.finish() }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(1))
        while openStreams > 0, clock.now < deadline { usleep(2000) }
        let stopping = daemon.withLock { daemon in
            defer { daemon = nil }
            return daemon
        }
        guard let stopping else { return }
        stopping.with(daemon: { MHD_stop_daemon($0) }, group: { gw_mhd_group_stop($0) })
        gw_mhd_watchdog_stop(core.watchdogPointer)
        certificate?.retire()
    }
}

/// What the C callbacks reach through their context pointer.
private final class DaemonCore: Sendable {
    let maxBodyBytes: Int
    /// A thread per connection: an unanswered request waits on its own thread (libmicrohttpd does
    /// not wake such a thread promptly on resume, and it has no other connection to serve).
    let threadPerConnection: Bool
    let handler: Router.AsyncHandler
    /// The request watchdog (`gw_mhd_watchdog`), as an address; stopped after the daemon.
    let watchdog: Int
    let inFlight = Atomic<Int>(0)
    /// When a request last started or completed (monotonic nanoseconds).
    let lastActivity = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)
    let phase = Atomic<Int>(HTTPServerPhase.serving.rawValue)
    /// Streaming responses whose connection is open, by identity.
    let streams = Mutex<[ObjectIdentifier: HTTPStream]>([:])

    init(maxBodyBytes: Int, threadPerConnection: Bool, watchdog: Int, handler: @escaping Router.AsyncHandler) {
        self.maxBodyBytes = maxBodyBytes
        self.threadPerConnection = threadPerConnection
        self.watchdog = watchdog
        self.handler = handler
    }

    var watchdogPointer: UnsafeMutablePointer<gw_mhd_watchdog> {
        UnsafeMutablePointer(bitPattern: watchdog)!
    }

    deinit {
        gw_mhd_watchdog_free(watchdogPointer)  // stopped by `stop()` already, or never started a daemon
    }
}

// MARK: C callbacks

private let accessHandler: MHD_AccessHandlerCallback = {
    context, connection, url, method, version, uploadData, uploadDataSize, requestContext in
    guard let context, let connection, let url, let method, let uploadDataSize, let requestContext else {
        return MHD_Result.NO
    }
    let core = Unmanaged<DaemonCore>.fromOpaque(context).takeUnretainedValue()

    guard let existing = requestContext.pointee else {
        // First call: headers only.
        let headers = values(of: connection, kind: .HEADER_KIND)
        let assembly = RequestAssembly(
            method: HTTPMethod(String(cString: method)),
            rawPath: String(cString: url),
            headers: headers,
            maxBodyBytes: core.maxBodyBytes
        )
        core.inFlight.add(1, ordering: .relaxed)
        core.lastActivity.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        requestContext.pointee = Unmanaged.passRetained(assembly).toOpaque()
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { address in
            if gw_mhd_client_address(connection, address.baseAddress!) != 0 {
                assembly.clientAddress = ClientAddress(bytes: UnsafeBufferPointer(address))
            }
        }
        if let problem = RequestFraming.problem(on: connection, version: version) {
            // Answered before any body is read; libmicrohttpd closes the connection after it.
            assembly.hasResponded = true
            gw_mhd_watch_request_arrived(connection)
            return queue(.error(400, "malformed request: \(problem)", headers: [("Connection", "close")]), core: core, on: connection)
        }
        if assembly.isTooLarge {
            // Refuse before reading a body we would drop (no 100 Continue is sent).
            assembly.hasResponded = true
            gw_mhd_watch_request_arrived(connection)
            if case .failure(let rejected) = assembly.finish(query: []) {
                return queue(rejected.response, core: core, on: connection)
            }
        }
        return MHD_Result.YES
    }
    let assembly = Unmanaged<RequestAssembly>.fromOpaque(existing).takeUnretainedValue()

    if uploadDataSize.pointee > 0 {
        if let uploadData {
            assembly.append(UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee))
        }
        uploadDataSize.pointee = 0
        if assembly.isTooLarge {
            // A chunked body past the limit: answer now and close, never read the rest.
            // libmicrohttpd queues no response in the middle of a body, so the 413 goes straight
            // to the socket and MHD_NO has libmicrohttpd close the connection.
            assembly.hasResponded = true
            if case .failure(let rejected) = assembly.finish(query: []) {
                let bytes = rawResponse(rejected.response)
                bytes.withUnsafeBytes { gw_mhd_answer_and_close(connection, $0.baseAddress!, $0.count) }
            }
            return MHD_Result.NO
        }
        return MHD_Result.YES
    }
    if assembly.hasResponded {
        // Called again after a resume: the handler's answer is ready.
        if let responder = assembly.responder, let response = responder.takeAnswer() {
            return finish(response, core: core, on: connection, head: assembly.method == .head)
        }
        return MHD_Result.YES
    }
    assembly.hasResponded = true
    gw_mhd_watch_request_arrived(connection)
    let head = assembly.method == .head

    let phase = HTTPServerPhase(rawValue: core.phase.load(ordering: .relaxed)) ?? .serving
    switch (phase, assembly.finish(query: values(of: connection, kind: .GET_ARGUMENT_KIND))) {
    case (.refusing, _):
        return finish(.error(503, "the server is shutting down", headers: [("Retry-After", "1")]), core: core, on: connection)
    case (_, .failure(let rejected)):
        return finish(rejected.response, core: core, on: connection)
    case (_, .success(let request)):
        if core.threadPerConnection {
            let answered = DispatchSemaphore(value: 0)
            let responder = HTTPResponder(resume: { answered.signal() })
            core.handler(request, responder)
            if let response = responder.takeAnswerOrSuspend({}) { return finish(response, core: core, on: connection, head: head) }
            answered.wait()
            guard let response = responder.takeAnswer() else { return MHD_Result.NO }
            return finish(response, core: core, on: connection, head: head)
        }
        let address = Int(bitPattern: connection)
        let responder = HTTPResponder(resume: {
            if let connection = OpaquePointer(bitPattern: address) { MHD_resume_connection(connection) }
        })
        assembly.responder = responder
        core.handler(request, responder)
        // Answered already: queue it. Otherwise the connection sleeps until the answer resumes it,
        // and this worker thread serves other connections meanwhile.
        guard let response = responder.takeAnswerOrSuspend({ MHD_suspend_connection(connection) }) else { return MHD_Result.YES }
        return finish(response, core: core, on: connection, head: head)
    }
}

/// Queues `response`, asking the client to close the connection once the server drains. For
/// `head`, a stream is ended at once and only its header fields go out: libmicrohttpd 0.9.75 would
/// send a chunked body after a HEAD's headers.
private func finish(_ response: HTTPResponse, core: DaemonCore, on connection: OpaquePointer, head: Bool = false) -> MHD_Result {
    var response = response
    if head, let stream = response.stream {
        response.stream = nil
        stream.connectionEnded()
    }
    if (HTTPServerPhase(rawValue: core.phase.load(ordering: .relaxed)) ?? .serving) != .serving {
        response.headers.append(("Connection", "close"))
    }
    return queue(response, core: core, on: connection)
}

private let requestCompleted: MHD_RequestCompletedCallback = { context, connection, requestContext, _ in
    guard let context, let requestContext, let existing = requestContext.pointee else { return }
    Unmanaged<RequestAssembly>.fromOpaque(existing).release()
    requestContext.pointee = nil
    let core = Unmanaged<DaemonCore>.fromOpaque(context).takeUnretainedValue()
    if let connection { gw_mhd_watch_request_completed(core.watchdogPointer, connection) }
    core.lastActivity.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    core.inFlight.subtract(1, ordering: .relaxed)
}

private func queue(_ response: HTTPResponse, core: DaemonCore, on connection: OpaquePointer) -> MHD_Result {
    let created: OpaquePointer?
    if let stream = response.stream {
        created = streamingResponse(stream, core: core, on: connection)
    } else {
        created = response.body.withUnsafeBytes { bytes in
            MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress), .RESPMEM_MUST_COPY)
        }
    }
    guard let created else { return MHD_Result.NO }
    defer { MHD_destroy_response(created) }
    for (name, value) in response.headers {
        // withCString lends a native string's own bytes; the implicit conversion copied each one.
        _ = name.withCString { name in value.withCString { value in MHD_add_response_header(created, name, value) } }
    }
    return MHD_queue_response(connection, UInt32(response.status), created)
}

/// What a streaming response's callbacks reach: the stream, its connection, the daemon's registry.
private final class StreamContext {
    let stream: HTTPStream
    let connection: Int
    let core: DaemonCore

    init(stream: HTTPStream, connection: Int, core: DaemonCore) {
        self.stream = stream
        self.connection = connection
        self.core = core
    }
}

/// A response of unknown length (sent chunked) that reads `stream`; registered until it is freed.
private func streamingResponse(_ stream: HTTPStream, core: DaemonCore, on connection: OpaquePointer) -> OpaquePointer? {
    let context = StreamContext(stream: stream, connection: Int(bitPattern: connection), core: core)
    core.streams.withLock { $0[ObjectIdentifier(stream)] = stream }
    let retained = Unmanaged.passRetained(context).toOpaque()
    guard let created = MHD_create_response_from_callback(UInt64.max, 512, streamReader, retained, streamFreed) else {
        streamFreed(retained)
        return nil
    }
    return created
}

private let streamReader: MHD_ContentReaderCallback = { context, _, buffer, max in
    guard let context, let buffer else { return -2 }  // MHD_CONTENT_READER_END_WITH_ERROR
    let stream = Unmanaged<StreamContext>.fromOpaque(context).takeUnretainedValue()
    let address = stream.connection
    let next = stream.stream.next(
        into: UnsafeMutableRawBufferPointer(start: buffer, count: max),
        suspend: { if let connection = OpaquePointer(bitPattern: address) { MHD_suspend_connection(connection) } },
        resume: { if let connection = OpaquePointer(bitPattern: address) { MHD_resume_connection(connection) } })
    switch next {
    case .bytes(let count): return count
    case .wait: return 0
    case .end: return -1  // MHD_CONTENT_READER_END_OF_STREAM: the terminating chunk follows
    }
}

/// libmicrohttpd is done with the response: the connection ended (or the stream did).
private let streamFreed: MHD_ContentReaderFreeCallback = { context in
    guard let context else { return }
    let stream = Unmanaged<StreamContext>.fromOpaque(context).takeRetainedValue()
    stream.stream.connectionEnded()
    stream.core.streams.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(stream.stream)) }
}

/// `response` as the bytes of an HTTP/1.1 response that closes the connection, for writing to the
/// socket directly (`gw_mhd_answer_and_close`).
private func rawResponse(_ response: HTTPResponse) -> [UInt8] {
    var text = "HTTP/1.1 \(response.status) \(response.status == 413 ? "Content Too Large" : "Error")\r\n"
    for (name, value) in response.headers where !ASCIICase.equals(name, lowercase: "connection") {
        text += "\(name): \(value)\r\n"
    }
    text += "Connection: close\r\nContent-Length: \(response.body.count)\r\n\r\n"
    return Array(text.utf8) + response.body
}

private func values(of connection: OpaquePointer, kind: MHD_ValueKind) -> [(name: String, value: String)] {
    var collected: [(name: String, value: String)] = []
    withUnsafeMutablePointer(to: &collected) { pointer in
        _ = MHD_get_connection_values(
            connection, kind,
            { context, _, key, value in
                guard let context, let key else { return MHD_Result.YES }
                let list = context.assumingMemoryBound(to: [(name: String, value: String)].self)
                list.pointee.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
                return MHD_Result.YES
            }, pointer)
    }
    return collected
}
