import CHiredis

#if canImport(Glibc)
    import Glibc
#endif

/// One blocking connection to Redis over hiredis: connect timeout, socket read/write timeout,
/// TCP keepalive, TLS when `options.tls` is set (hiredis then only formats commands and parses
/// replies, `TLSSession` carries the bytes), AUTH (optionally with an ACL user), SELECT and CLIENT SETNAME on connect, and a
/// bound on the memory of each reply (`options.maxReplyBytes`).
///
/// What runs on it is watched (`ConnectionStateWatch`): a command that may change the connection's
/// state (read as Redis reads names, up to a NUL byte) or a reply only a changed connection gives
/// makes `changedState` true, and the pool then closes it instead of lending it again.
///
/// After any error the connection is broken for good (hiredis' rule: a context that saw an error is
/// never reused) and `isBroken` is true. Redis error replies are not errors: they are returned as
/// `RedisValue.error` and leave the connection usable.
///
/// Threading: not thread-safe; one thread uses it at a time (the pool guarantees that).
/// This file is the only one that touches `redisContext*`.
public final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    /// The TLS session over the socket, nil for plain TCP (hiredis' own reads and writes).
    private let tls: TLSSession?
    /// The options the connection was opened with.
    public let options: RedisConnectionOptions
    /// True after an I/O error, timeout or protocol error: the connection must not be used again.
    public private(set) var isBroken = false
    /// The kind of the failure that broke the connection, if one did.
    public private(set) var lastFailure: RedisError.Kind?
    private var isClosed = false
    /// What ran on the connection since its handshake, for `changedState`.
    private var watch = ConnectionStateWatch()
    /// The reply memory bound, read by the reader's object functions (the shim) while it parses.
    private let replyBudget: UnsafeMutablePointer<gw_redis_reply_budget>
    /// Scratch space reused by every `append`, so a pipeline does not allocate per command.
    private var flatArguments: [UInt8] = []
    private var argumentLengths: [Int] = []

    private init(context: UnsafeMutablePointer<redisContext>, tls: TLSSession?, options: RedisConnectionOptions) {
        self.context = context
        self.tls = tls
        self.options = options
        replyBudget = .allocate(capacity: 1)
        replyBudget.initialize(to: gw_redis_reply_budget(limit: max(options.maxReplyBytes, 0), used: 0, over: 0, inner: nil))
        gw_redis_install_reply_budget(context, replyBudget)
    }

    deinit {
        if !isClosed { redisFree(context) }
        replyBudget.deallocate()
    }

    /// True once something ran on the connection, or came back, that may have changed its state
    /// for the next user (a database, a transaction, a subscription, MONITOR, the reply mode, the
    /// client name or user, the Lua debugger).
    public var changedState: Bool { watch.changed }

    /// Opens a connection and prepares it (AUTH, SELECT, CLIENT SETNAME in one round trip).
    /// `connectTimeout` overrides `options.connectTimeout` when shorter; it covers the TCP connect
    /// and the TLS handshake together.
    public static func connect(
        options: RedisConnectionOptions,
        connectTimeout: Duration? = nil
    ) throws(RedisError) -> RedisConnection {
        let timeout = min(connectTimeout ?? options.connectTimeout, options.connectTimeout)
        let start = ContinuousClock.now
        guard let context = redisConnectWithTimeout(options.url.host, Int32(options.url.port), timeval(timeout)) else {
            throw RedisError(.connectFailed, "cannot allocate a Redis context")
        }
        if context.pointee.err != 0 {
            let message = errorString(context)
            redisFree(context)
            throw RedisError(.connectFailed, "cannot connect to \(options.url.poolName): \(message)")
        }
        var tls: TLSSession?
        if let credentials = options.tls {
            let remaining = max(timeout - (ContinuousClock.now - start), .milliseconds(1))
            redisSetTimeout(context, timeval(remaining))
            do {
                let name = credentials.settings.serverName ?? options.url.host
                tls = try TLSSession(fd: context.pointee.fd, credentials: credentials, serverName: name, timeout: remaining)
            } catch {
                redisFree(context)
                throw RedisError(error.kind, "cannot connect to \(options.url.poolName) over TLS: \(error.message)")
            }
        }
        redisSetTimeout(context, timeval(options.socketTimeout))
        redisEnableKeepAlive(context)
        let connection = RedisConnection(context: context, tls: tls, options: options)
        try connection.prepare()
        return connection
    }

    /// Sends one command and reads its reply.
    public func send(_ command: RedisCommand) throws(RedisError) -> RedisValue {
        try pipeline([command])[0]
    }

    /// Sends all `commands` in one write and reads their replies in order (one round trip).
    /// Throws only for a connection failure; each command's Redis error is its own reply.
    ///
    /// Before writing, the socket is peeked (one non-blocking `recv`): a connection Redis already
    /// closed (restart, `CLIENT KILL`, idle timeout) fails with `mayHaveReachedRedis == false`
    /// instead of swallowing the request into a dead socket.
    ///
    /// `budget` says what `options.maxReplyBytes` bounds: each reply on its own (independent
    /// requests sharing a round trip), or all of them together (one request's batch).
    public func pipeline(_ commands: [RedisCommand], budget: ReplyBudgetScope = .eachReply) throws(RedisError) -> [RedisValue] {
        guard !isBroken, !isClosed else {
            throw RedisError(.connectionBroken, "the connection is broken by an earlier error", mayHaveReachedRedis: false)
        }
        try checkPeerStillOpen()
        for command in commands {
            try append(command)
        }
        try flush()
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        replyBudget.pointee.used = 0
        let limit = replyBudget.pointee.limit
        if budget == .unbounded { replyBudget.pointee.limit = 0 }
        defer { replyBudget.pointee.limit = limit }
        for command in commands {
            if budget == .eachReply { replyBudget.pointee.used = 0 }
            let reply: RedisValue
            do {
                reply = try readReply()
            } catch {
                // The replies after this one are never read: the connection is out of step.
                isBroken = true
                throw error
            }
            watch.ran(command.arguments, reply: reply)
            replies.append(reply)
        }
        watch.roundTripFinished()
        return replies
    }

    /// `pipeline` for independent requests sharing one round trip, keeping what arrived when the
    /// round trip fails midway: `received` holds one result per reply read (in order), `failure`
    /// what broke the connection then (nil when every reply arrived). `requestSizes` gives each
    /// request's command count, in order: one request's replies share one budget, as on a connection
    /// of its own (nil: each command is a request). A reply over the budget is read to its end
    /// without being built, so it is that reply's own failure (`.replyTooLarge`) and the round trip
    /// goes on; only a string too large to buffer breaks the connection, and then only the replies
    /// after it are lost. A failure before anything was sent leaves `received` empty.
    public func pipelineKeepingReplies(_ commands: [RedisCommand], requestSizes: [Int]? = nil) -> (
        received: [Result<RedisValue, RedisError>], failure: RedisError?
    ) {
        guard !isBroken, !isClosed else {
            return ([], RedisError(.connectionBroken, "the connection is broken by an earlier error", mayHaveReachedRedis: false))
        }
        var replies: [Result<RedisValue, RedisError>] = []
        do throws(RedisError) {
            try checkPeerStillOpen()
            for command in commands {
                try append(command)
            }
            try flush()
            replies.reserveCapacity(commands.count)
            var sizes = (requestSizes ?? []).makeIterator()
            var leftInRequest = 0
            for command in commands {
                if leftInRequest == 0 {
                    // A request begins: its replies get a budget of their own.
                    replyBudget.pointee.used = 0
                    leftInRequest = requestSizes == nil ? 1 : max(1, sizes.next() ?? 1)
                }
                leftInRequest -= 1
                do {
                    let reply = try readReply()
                    watch.ran(command.arguments, reply: reply)
                    replies.append(.success(reply))
                } catch  where error.kind == .replyTooLarge && !isBroken {
                    watch.ran(command.arguments, reply: .null)  // it ran; only its reply was dropped
                    replies.append(.failure(error))
                }
            }
            watch.roundTripFinished()
            return (replies, nil)
        } catch {
            return (replies, error)
        }
    }

    /// Reads the next reply without sending anything: a message pushed on a subscribed connection.
    /// A socket timeout while waiting breaks the connection like any other.
    public func receive() throws(RedisError) -> RedisValue {
        guard !isBroken, !isClosed else {
            throw RedisError(.connectionBroken, "the connection is broken by an earlier error", mayHaveReachedRedis: false)
        }
        replyBudget.pointee.used = 0
        return try readReply()
    }

    /// The socket, for a thread that waits (`poll`) for messages pushed on a subscribed connection.
    public var fileDescriptor: Int32 {
        context.pointee.fd
    }

    /// Writes `commands` without reading their replies: on a subscribed connection, confirmations
    /// of `SUBSCRIBE`/`UNSUBSCRIBE` arrive among the pushed messages (`receiveAvailable()`).
    public func write(_ commands: [RedisCommand]) throws(RedisError) {
        guard !isBroken, !isClosed else {
            throw RedisError(.connectionBroken, "the connection is broken by an earlier error", mayHaveReachedRedis: false)
        }
        for command in commands {
            try append(command)
        }
        try flush()
    }

    /// One read from the socket (waiting up to the socket timeout when nothing has arrived; call it
    /// once `poll` says the socket is readable), then every complete reply received so far, in order.
    public func receiveAvailable() throws(RedisError) -> [RedisValue] {
        guard !isBroken, !isClosed else {
            throw RedisError(.connectionBroken, "the connection is broken by an earlier error", mayHaveReachedRedis: false)
        }
        try readFromSocket(draining: true)
        var replies: [RedisValue] = []
        while true {
            var raw: UnsafeMutableRawPointer?
            // The budget runs across reads until a reply is complete (a large message arrives over
            // many reads), and starts afresh for the next one.
            guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw failure() }
            guard let raw else {
                // A long string skipped leaves a value in its place: parse on.
                if try checkPendingInput() { continue }
                return replies
            }
            let over = replyBudget.pointee.over != 0
            replyBudget.pointee.used = 0
            replyBudget.pointee.over = 0
            if over {
                // A message over the budget, read to its end: what was built of it comes through,
                // the rest as nil (a payload is never nil otherwise), and the link stays in step.
                if raw != gw_redis_over_budget() { replies.append(Self.value(of: raw.assumingMemoryBound(to: redisReply.self))) }
                gw_redis_budget_free(raw)
                continue
            }
            replies.append(Self.value(of: raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
    }

    /// Bytes read from the socket that the reader holds but has not parsed into a reply (tests).
    var unparsedInputBytes: Int { gw_redis_pending_input(context) }

    /// Changes the read/write timeout for the following calls.
    public func setSocketTimeout(_ timeout: Duration) {
        guard !isBroken, !isClosed else { return }
        if redisSetTimeout(context, Self.timeval(timeout)) != REDIS_OK { isBroken = true }
    }

    /// True when bytes were written but not flushed, or read but not handed out as replies:
    /// a connection in that state would give its next user someone else's reply.
    public var hasUnreadBytes: Bool {
        !isClosed && (gw_redis_pending_output(context) > 0 || gw_redis_pending_input(context) > 0 || (tls?.pendingBytes ?? 0) > 0)
    }

    /// Closes the socket; later calls throw `.connectionBroken`.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        isBroken = true
        redisFree(context)
    }

    // MARK: Private

    private func prepare() throws(RedisError) {
        var handshake: [RedisCommand] = []
        if let password = options.url.password {
            if let user = options.url.username {
                handshake.append(RedisCommand("AUTH", user, password))
            } else {
                handshake.append(RedisCommand("AUTH", password))
            }
        }
        if options.url.database != 0 {
            handshake.append(RedisCommand("SELECT", String(options.url.database)))
        }
        if let name = options.clientName {
            handshake.append(RedisCommand("CLIENT", "SETNAME", name))
        }
        guard !handshake.isEmpty else { return }
        do throws(RedisError) {
            for (command, reply) in zip(handshake, try pipeline(handshake)) {
                if let message = reply.errorMessage {
                    throw RedisError(.handshakeFailed, "\(command.name) refused: \(message)")
                }
            }
            // The handshake's own AUTH, SELECT and CLIENT SETNAME set the state every user gets.
            watch = ConnectionStateWatch()
        } catch {
            close()
            throw error
        }
    }

    private func append(_ command: RedisCommand) throws(RedisError) {
        flatArguments.removeAll(keepingCapacity: true)
        argumentLengths.removeAll(keepingCapacity: true)
        for argument in command.arguments {
            flatArguments.append(contentsOf: argument)
            argumentLengths.append(argument.count)
        }
        flatArguments.append(0)  // never empty, so the base address is never nil
        let context = self.context
        let lengths = argumentLengths
        let status = flatArguments.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!)
            return withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: lengths.count) { argv in
                var offset = 0
                for (index, length) in lengths.enumerated() {
                    argv[index] = (base + offset).assumingMemoryBound(to: CChar.self)
                    offset += length
                }
                return lengths.withUnsafeBufferPointer { lengthBuffer in
                    redisAppendCommandArgv(context, Int32(lengths.count), argv.baseAddress, lengthBuffer.baseAddress)
                }
            }
        }
        if status != REDIS_OK { throw failure(mayHaveReachedRedis: false) }
    }

    /// The next reply, charged to `replyBudget` (the caller resets it). hiredis' `redisGetReply`
    /// loop, with one check between reads: the reader keeps a string's bytes in its buffer until the
    /// whole string has arrived, so a reply whose unparsed bytes alone pass the budget fails there,
    /// before a 500 MB string is buffered. (Every value is charged at least its RESP bytes, so this
    /// never refuses a reply the object functions would accept; one read's worth of the replies
    /// behind it is allowed for.)
    private func readReply() throws(RedisError) -> RedisValue {
        var raw: UnsafeMutableRawPointer?
        replyBudget.pointee.over = 0
        while true {
            guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw failure() }
            if raw != nil { break }
            // A long string skipped leaves a value in its place: parse it before reading again (a
            // lone reply has nothing more to read).
            if try checkPendingInput() { continue }
            try readFromSocket(draining: false)
        }
        guard let raw else {
            isBroken = true
            throw RedisError(.protocolError, "no reply")
        }
        if replyBudget.pointee.over != 0 {
            // Read to its end but not built past the budget: dropped, the connection still in step.
            gw_redis_budget_free(raw)
            let error = tooLarge(mayHaveReachedRedis: true)
            replyBudget.pointee.over = 0
            throw error
        }
        defer { freeReplyObject(raw) }
        return Self.value(of: raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Fails (and breaks the connection) when the bytes of the reply still arriving already pass
    /// what is left of the budget. True when it read a long string through instead (the reader now
    /// holds a nil in its place).
    private func checkPendingInput() throws(RedisError) -> Bool {
        let budget = replyBudget.pointee
        guard budget.limit > 0 else { return false }
        // A string longer than what is left of the budget is read through and thrown away (the
        // reader gets a nil in its place), so the connection stays in step without buffering it.
        let allowance = budget.over != 0 ? 0 : budget.limit - min(budget.used, budget.limit)
        var length: UInt64 = 0
        let rest = gw_redis_long_string_rest(context, replyBudget, allowance, &length)
        if rest > 0 {
            try discard(rest)
            guard gw_redis_long_string_skipped(context, replyBudget, length) == 1 else { throw failure() }
            return true
        }
        // Past the budget nothing is built, so only what the reader buffers still counts.
        let built = budget.over != 0 ? 0 : budget.used
        guard built + gw_redis_pending_input(context) > budget.limit + Self.readChunk else { return false }
        isBroken = true
        lastFailure = .replyTooLarge
        throw tooLarge(mayHaveReachedRedis: true)
    }

    /// What one `redisBufferRead` reads at most (hiredis 0.14: 16 KiB), and one TLS read here.
    private static let readChunk = 16 * 1024

    /// One read from the socket into hiredis' reader (hiredis' own read for plain TCP). Over TLS,
    /// with `draining`, also every decrypted byte the session already holds: a poll on the socket
    /// would not show them.
    private func readFromSocket(draining: Bool) throws(RedisError) {
        guard let tls else {
            if redisBufferRead(context) != REDIS_OK { throw failure() }
            return
        }
        repeat {
            let count = withUnsafeTemporaryAllocation(byteCount: Self.readChunk, alignment: 1) { buffer in
                let count = tls.receive(into: buffer)
                if count > 0,
                    redisReaderFeed(context.pointee.reader, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), count) != REDIS_OK
                {
                    return -2
                }
                return count
            }
            if count == -2 {
                isBroken = true
                lastFailure = .protocolError
                throw RedisError(.protocolError, "protocol error: \(Self.readerError(context))")
            }
            if count <= 0 { throw socketFailure(count == 0 ? nil : errno, mayHaveReachedRedis: true) }
        } while draining && tls.pendingBytes > 0
    }

    /// Reads `count` bytes from the socket and throws them away (the rest of a string past its budget).
    private func discard(_ count: UInt64) throws(RedisError) {
        var rest = count
        while rest > 0 {
            let received = withUnsafeTemporaryAllocation(byteCount: Self.readChunk, alignment: 1) { buffer in
                let wanted = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(min(rest, UInt64(buffer.count)))])
                if let tls { return tls.receive(into: wanted) }
                return recv(context.pointee.fd, wanted.baseAddress, wanted.count, 0)
            }
            if received <= 0 { throw socketFailure(received == 0 ? nil : errno, mayHaveReachedRedis: true) }
            rest -= UInt64(received)
        }
    }

    /// Breaks the connection for a failed socket read or write (`code`: its errno; nil: the peer closed).
    private func socketFailure(_ code: Int32?, mayHaveReachedRedis: Bool) -> RedisError {
        isBroken = true
        let error: RedisError
        switch code {
        case nil:
            error = RedisError(.io, "Redis closed the connection", mayHaveReachedRedis: mayHaveReachedRedis)
        case EAGAIN?, EWOULDBLOCK?, ETIMEDOUT?:
            error = RedisError(.timeout, "Redis did not answer within \(options.socketTimeout)", mayHaveReachedRedis: mayHaveReachedRedis)
        case EPROTO? where tls != nil:
            error = RedisError(.io, tls!.lastError, mayHaveReachedRedis: mayHaveReachedRedis)
        case let code?:
            error = RedisError(.io, "I/O error: \(String(cString: strerror(code)))", mayHaveReachedRedis: mayHaveReachedRedis)
        }
        lastFailure = error.kind
        return error
    }

    private static func readerError(_ context: UnsafeMutablePointer<redisContext>) -> String {
        guard let reader = context.pointee.reader else { return "no reader" }
        return withUnsafeBytes(of: reader.pointee.errstr) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private func tooLarge(mayHaveReachedRedis: Bool) -> RedisError {
        RedisError(
            .replyTooLarge, "the reply is larger than the gateway's reply budget (\(replyBudget.pointee.limit) bytes)",
            mayHaveReachedRedis: mayHaveReachedRedis)
    }

    /// Fails, nothing sent, when Redis closed the socket, or sent something unasked — typically an
    /// error it writes on accepting a connection it will not serve (`max number of clients reached`).
    private func checkPeerStillOpen() throws(RedisError) {
        if let tls { return try checkTLSPeerStillOpen(tls) }
        var byte: UInt8 = 0
        let received = recv(context.pointee.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if received < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
        if received > 0 {
            let unasked = try? readReply()
            isBroken = true
            let message = unasked?.errorMessage.map { "Redis refused the connection: \($0)" } ?? "Redis sent bytes before any request"
            throw RedisError(.io, message, mayHaveReachedRedis: false)
        }
        isBroken = true
        let reason = received == 0 ? "Redis closed the connection" : "I/O error: \(String(cString: strerror(errno)))"
        throw RedisError(.io, "\(reason) (found before sending)", mayHaveReachedRedis: false)
    }

    /// `checkPeerStillOpen` over TLS: bytes on the socket may be records that carry no data (TLS
    /// 1.3 session tickets), so they are read (without waiting) before anything counts as unasked.
    private func checkTLSPeerStillOpen(_ tls: TLSSession) throws(RedisError) {
        if tls.pendingBytes == 0 {
            var byte: UInt8 = 0
            let peeked = recv(context.pointee.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            if peeked < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            if peeked > 0 {
                let received = withUnsafeTemporaryAllocation(byteCount: Self.readChunk, alignment: 1) { buffer in
                    let count = tls.receive(into: buffer, nonblocking: true)
                    if count > 0 { redisReaderFeed(context.pointee.reader, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), count) }
                    return count
                }
                if received < 0, errno == EAGAIN { return }
                // Closed, or ended with an alert (a refused client certificate arrives so after a TLS 1.3 handshake).
                if received <= 0 { throw socketFailure(received == 0 ? nil : errno, mayHaveReachedRedis: false) }
            } else {
                isBroken = true
                throw RedisError(.io, "Redis closed the connection (found before sending)", mayHaveReachedRedis: false)
            }
        }
        var raw: UnsafeMutableRawPointer?
        let unasked: RedisValue? =
            redisGetReplyFromReader(context, &raw) == REDIS_OK && raw != nil
            ? Self.value(of: raw!.assumingMemoryBound(to: redisReply.self)) : nil
        if let raw { gw_redis_budget_free(raw) }
        isBroken = true
        let message = unasked?.errorMessage.map { "Redis refused the connection: \($0)" } ?? "Redis sent bytes before any request"
        throw RedisError(.io, message, mayHaveReachedRedis: false)
    }

    /// Writes the whole output buffer; a failure before the first byte left says so.
    private func flush() throws(RedisError) {
        if let tls {
            let pending = gw_redis_pending_output(context)
            guard pending > 0, let output = gw_redis_output(context) else { return }
            guard tls.send(UnsafeRawBufferPointer(start: output, count: pending)) else {
                // A TLS write that failed may have sent part of its records.
                throw socketFailure(errno, mayHaveReachedRedis: true)
            }
            gw_redis_output_written(context, pending)
            return
        }
        let pending = gw_redis_pending_output(context)
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK {
                let nothingSent = gw_redis_pending_output(context) == pending
                throw failure(mayHaveReachedRedis: !nothingSent)
            }
        }
    }

    /// Marks the connection broken and describes hiredis' error.
    private func failure(mayHaveReachedRedis: Bool = true) -> RedisError {
        let error = describeFailure(mayHaveReachedRedis: mayHaveReachedRedis)
        lastFailure = error.kind
        return error
    }

    private func describeFailure(mayHaveReachedRedis: Bool) -> RedisError {
        let savedErrno = errno
        isBroken = true
        let message = Self.errorString(context)
        switch context.pointee.err {
        case REDIS_ERR_OOM where replyBudget.pointee.limit > 0 && replyBudget.pointee.used > replyBudget.pointee.limit:
            return tooLarge(mayHaveReachedRedis: mayHaveReachedRedis)
        case REDIS_ERR_IO where savedErrno == EAGAIN || savedErrno == EWOULDBLOCK || savedErrno == ETIMEDOUT:
            return RedisError(.timeout, "Redis did not answer within \(options.socketTimeout)", mayHaveReachedRedis: mayHaveReachedRedis)
        case REDIS_ERR_PROTOCOL:
            return RedisError(.protocolError, "protocol error: \(message)", mayHaveReachedRedis: mayHaveReachedRedis)
        case REDIS_ERR_EOF:
            return RedisError(.io, "Redis closed the connection: \(message)", mayHaveReachedRedis: mayHaveReachedRedis)
        default:
            return RedisError(.io, "I/O error: \(message)", mayHaveReachedRedis: mayHaveReachedRedis)
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(r.str, r.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(r.integer))
        case REDIS_REPLY_ARRAY:
            guard let elements = r.element else { return .array([]) }
            return .array(
                (0..<r.elements).map { index in
                    elements[index].map(value(of:)) ?? .null
                })
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    private static func timeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        let micros = seconds.multipliedReportingOverflow(by: 1_000_000)
        let total = micros.overflow ? Int64.max : micros.partialValue &+ attoseconds / 1_000_000_000_000
        return gw_timeval_from_microseconds(max(total, 1))
    }
}
