import CoreUtilities
import HTTPServer
import RedisClient

/// The Upstash-compatible command API: `POST /` (one command), `/{command}/{args...}` (command in the
/// path), `POST /pipeline` (a batch in one round trip, not atomic) and `POST /multi-exec` (a batch
/// in MULTI … EXEC, atomic). One borrowed connection per request.
///
/// Threading: stateless apart from the shared `RedisExecutor` and `SyncToken`.
final class CommandHandlers: Sendable {
    let redis: RedisExecutor
    let policy: CommandPolicy
    let limits: CommandLimits
    let syncToken: SyncToken
    let scripts: ScriptCompatibility
    /// The command names the server lists: nothing else is sent.
    let catalog: ServerCommandCatalog
    /// Keys no caller may name (the session example's).
    let reserved: ReservedPrefix

    /// Handlers on `redis`, checking each command against `policy` (with the names in `catalog`)
    /// and `limits`.
    init(
        redis: RedisExecutor, policy: CommandPolicy, limits: CommandLimits, syncToken: SyncToken, scripts: ScriptCompatibility,
        catalog: ServerCommandCatalog, reserved: ReservedPrefix = ReservedPrefix("__gateway:")
    ) {
        self.reserved = reserved
        self.redis = redis
        self.policy = policy
        self.limits = limits
        self.syncToken = syncToken
        self.scripts = scripts
        self.catalog = catalog
    }

    /// First path segments that belong to the service's own routes, never to a command.
    static let reservedSegments: Set<String> = [
        "cache", "pool", "api", "metrics", "healthz", "readyz", "pipeline", "multi-exec", "subscribe", "psubscribe",
    ]

    /// The query parameter that carries a token, never an argument.
    static let tokenParameter = Array("_token".utf8)

    /// A completion that receives the response, possibly later on a Redis sender thread.
    typealias Completion = @Sendable (Result<HTTPResponse, GatewayError>) -> Void

    /// `POST /` with a JSON command such as `["SET","k","v"]`.
    func single(_ request: HTTPRequest, role: CallerRole, completion: @escaping Completion) {
        let format: ResponseFormat
        let command: [[UInt8]]
        do throws(GatewayError) {
            format = try ResponseFormat(request, allowRESP2: true)
            do {
                command = try CommandBodyParser.parseCommand(request.body)
            } catch {
                throw .badRequest("ERR \(error.message)")
            }
        } catch {
            return completion(.failure(error))
        }
        run(command, role: role, format: format, label: request.route, safeMethod: false, completion: completion)
    }

    /// `/{command}/{arg1}/...`: path segments, then a non-empty body (POST/PUT), then query pairs.
    func path(_ request: HTTPRequest, role: CallerRole, completion: @escaping Completion) {
        let command: [[UInt8]]
        let format: ResponseFormat
        do throws(GatewayError) {
            (command, format) = try pathCommand(request)
        } catch {
            return completion(.failure(error))
        }
        // GET and HEAD are safe methods: a link, an <img> or a prefetch must never write.
        let safeMethod = request.method == .get || request.method == .head
        run(command, role: role, format: format, label: request.route, safeMethod: safeMethod, completion: completion)
    }

    private func pathCommand(_ request: HTTPRequest) throws(GatewayError) -> ([[UInt8]], ResponseFormat) {
        guard let first = request.pathSegments.first, !first.isEmpty else {
            throw .badRequest("ERR no command in the path")
        }
        if Self.reservedSegments.contains(String(decoding: first, as: UTF8.self)) {
            throw .notFound("no such endpoint: \(request.rawPath)")
        }
        var command = request.pathSegments
        if request.method == .post || request.method == .put, !request.body.isEmpty {
            command.append(request.body)
        }
        for (name, value) in request.queryBytes where name != Self.tokenParameter {
            command.append(name)  // the exact bytes: `?%FF` is the byte 0xFF, as in the path
            if !value.isEmpty { command.append(value) }
        }
        return (command, try ResponseFormat(request, allowRESP2: true))
    }

    /// `POST /pipeline`: all commands in one write, replies read back in order.
    func pipeline(_ request: HTTPRequest, role: CallerRole) throws(GatewayError) -> HTTPResponse {
        let format = try ResponseFormat(request, allowRESP2: true)
        let (commands, writes) = try batch(request, role: role)
        let prepared = commands.map(scripts.prepare)
        let sent = try redis.execute(prepared.map { RedisCommand(arguments: $0.command) }, label: request.route)
        let replies = zip(prepared, sent).map { scripts.finish($0.followup, reply: $1) }
        if writes { syncToken.recordWrite() }
        switch format {
        case .resp2:
            var bytes: [UInt8] = []
            for reply in replies { RESTResultRendering.resp2(reply, into: &bytes) }
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream")], body: bytes)
        case .json(let encoding):
            return jsonResponse(try RESTResultRendering.entries(replies, encoding: encoding, maxBytes: limits.maxResponseBytes))
        }
    }

    /// `POST /multi-exec`: the batch inside MULTI … EXEC on one connection, atomic.
    func multiExec(_ request: HTTPRequest, role: CallerRole) throws(GatewayError) -> HTTPResponse {
        let encoding: RESTResultRendering.Encoding
        switch try ResponseFormat(request, allowRESP2: false) {
        case .json(let chosen): encoding = chosen
        case .resp2: throw .badRequest("ERR Upstash-Response-Format resp2 is not supported for /multi-exec")
        }
        let (commands, writes) = try batch(request, role: role)
        let prepared = commands.map(scripts.prepare)
        let replies = try redis.execute(
            [RedisCommand("MULTI")] + prepared.map { RedisCommand(arguments: $0.command) } + [RedisCommand("EXEC")], label: request.route)
        if writes { syncToken.recordWrite() }
        switch replies[replies.count - 1] {
        case .array(let sent):
            let results = zip(prepared, sent).map { scripts.finish($0.followup, reply: $1) }
            return jsonResponse(try RESTResultRendering.entries(results, encoding: encoding, maxBytes: limits.maxResponseBytes))
        case .error(let message):
            // EXECABORT: a command was refused while queueing; say which.
            let queued = replies.dropFirst().dropLast().compactMap(\.errorMessage).first
            throw .commandReply(queued.map { "\(message) (\($0))" } ?? message)
        case .null, .status, .integer, .bulk:
            throw .commandReply("ERR the transaction was aborted")
        }
    }

    // MARK: Shared steps

    private func jsonResponse(_ body: [UInt8]) -> HTTPResponse {
        .json(200, bytes: body)
    }

    /// The checked commands of a batch body, and whether any of them writes.
    private func batch(_ request: HTTPRequest, role: CallerRole) throws(GatewayError) -> (commands: [[[UInt8]]], writes: Bool) {
        let commands: [[[UInt8]]]
        do {
            commands = try CommandBodyParser.parseBatch(request.body, maxCommands: limits.maxCommandsPerBatch)
        } catch {
            throw error.isTooLarge ? .payloadTooLarge("ERR \(error.message)") : .badRequest("ERR \(error.message)")
        }
        let names = try catalog.names(readingWith: redis)
        var writes = false
        var blocking = 0.0
        for (index, command) in commands.enumerated() {
            let review = try check(command, role: role, names: names, label: "command \(index): ")
            writes = writes || review.writes
            blocking += review.blockingSeconds
        }
        // One connection serves the whole batch: its blocking commands wait one after the other.
        let limit = policy.blockingLimit.secondsDouble
        if blocking >= limit {
            throw .badRequest("ERR the batch's blocking commands may wait \(blocking) s in all, not below the socket timeout (\(limit) s)")
        }
        return (commands, writes)
    }

    /// Applies the limits and the command policy; returns what the policy found.
    private func check(
        _ command: [[UInt8]], role: CallerRole, names: ServerCommandNames, label: String = ""
    ) throws(GatewayError) -> CommandPolicy.Review {
        if command.count > limits.maxArgumentsPerCommand {
            throw .payloadTooLarge("ERR \(label)more than \(limits.maxArgumentsPerCommand) arguments")
        }
        let review = policy.review(command, role: role, names: names)
        switch review.violation {
        case nil:
            if command.dropFirst().contains(where: reserved.covers) { throw reserved.refusal }
            return review
        case .unknownCommand(let message)?, .connectionState(let message)?, .blocking(let message)?: throw .badRequest(label + message)
        case .denied(let message)?, .readOnly(let message)?: throw .forbidden(label + message)
        }
    }

    private func run(
        _ command: [[UInt8]], role: CallerRole, format: ResponseFormat, label: String, safeMethod: Bool,
        completion: @escaping Completion
    ) {
        guard let names = catalog.current else {
            // Redis' command list is not known yet (it was down at start): read it on a thread that
            // may wait, then judge the command.
            return redis.offload(
                { [self] in
                    do throws(GatewayError) {
                        _ = try catalog.names(readingWith: redis)
                    } catch {
                        return completion(.failure(error))
                    }
                    run(command, role: role, format: format, label: label, safeMethod: safeMethod, completion: completion)
                }, refused: { completion(.failure($0)) })
        }
        let writes: Bool
        do throws(GatewayError) {
            writes = try check(command, role: role, names: names).writes
            if writes, safeMethod {
                throw .methodNotAllowed(
                    "ERR \(ASCIICase.uppercased(command[0])) writes: send it with POST, never GET or HEAD", allow: "POST")
            }
        } catch {
            return completion(.failure(error))
        }
        let (prepared, followup) = scripts.prepare(command)
        redis.execute([RedisCommand(arguments: prepared)], label: label) { [self] replies in
            completion(
                replies.flatMap { replies in
                    Result { () throws(GatewayError) in
                        let reply = scripts.finish(followup, reply: replies[0])
                        if writes { syncToken.recordWrite() }
                        return try render(reply, format: format)
                    }
                })
        }
    }

    private func render(_ reply: RedisValue, format: ResponseFormat) throws(GatewayError) -> HTTPResponse {
        if let message = reply.errorMessage { throw .commandReply(message) }
        switch format {
        case .resp2:
            var bytes: [UInt8] = []
            RESTResultRendering.resp2(reply, into: &bytes)
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream")], body: bytes)
        case .json(let encoding):
            return jsonResponse(try RESTResultRendering.entry(reply, encoding: encoding, maxBytes: limits.maxResponseBytes))
        }
    }
}

/// How a command response is written, from `Upstash-Encoding` and `Upstash-Response-Format`.
enum ResponseFormat {
    case json(RESTResultRendering.Encoding)
    case resp2

    init(_ request: HTTPRequest, allowRESP2: Bool) throws(GatewayError) {
        let base64 = try Self.base64(request)
        switch request.header("upstash-response-format")?.lowercased() {
        case nil, "json":
            self = .json(base64 ? .base64 : .text)
        case "resp2":
            // The raw RESP2 bytes are binary-safe already: base64 (a JSON string encoding) does not apply.
            if !allowRESP2 { throw .badRequest("ERR Upstash-Response-Format resp2 is not supported for /multi-exec") }
            self = .resp2
        case let other?:
            throw .badRequest("ERR Upstash-Response-Format must be json or resp2, got '\(other)'")
        }
    }

    /// Whether `Upstash-Encoding: base64` was asked for; 400 for any other value.
    static func base64(_ request: HTTPRequest) throws(GatewayError) -> Bool {
        guard let encoding = request.header("upstash-encoding") else { return false }
        guard encoding.lowercased() == "base64" else {
            throw .badRequest("ERR Upstash-Encoding must be base64, got '\(encoding)'")
        }
        return true
    }
}

/// Bounds on command API input.
public struct CommandLimits: Sendable, Equatable {
    /// Most commands in one `/pipeline` or `/multi-exec` batch (413 beyond).
    public var maxCommandsPerBatch = 1000
    /// Most arguments in one command, its name included (413 beyond).
    public var maxArgumentsPerCommand = 100_000
    /// Most bytes of one JSON response body (413 beyond): the gateway sets it to twice
    /// `GATEWAY_MAX_REPLY_BYTES`, since escaping can make JSON up to six times the reply.
    public var maxResponseBytes = 32 << 20

    /// The defaults: 1000 commands per batch, 100,000 arguments per command.
    public init() {}
}
