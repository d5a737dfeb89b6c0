import CoreUtilities
import HTTPServer
import RedisClient

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The `/cache/{key}` resource family: get, set, delete, expire, persist, ttl.
///
/// Threading: stateless apart from the shared `RedisExecutor`; called on many threads at once.
final class CacheHandlers: Sendable {
    let redis: RedisExecutor
    let maxKeyBytes: Int
    /// Most bytes of a JSON body: a value whose escaped form is larger answers 413 (raw bytes are
    /// never escaped, so `Accept: application/octet-stream` still reads it).
    let maxResponseBytes: Int
    /// Keys no caller may name (the session example's).
    let reserved: ReservedPrefix

    /// Handlers on `redis`, refusing keys longer than `maxKeyBytes` or under `reserved`, and JSON
    /// bodies over `maxResponseBytes`.
    init(redis: RedisExecutor, maxKeyBytes: Int, maxResponseBytes: Int = .max, reserved: ReservedPrefix = ReservedPrefix("__gateway:")) {
        self.redis = redis
        self.maxKeyBytes = maxKeyBytes
        self.maxResponseBytes = maxResponseBytes
        self.reserved = reserved
    }

    /// `GET /cache/{key}`: JSON `{"key","value","ttl"}`, or the raw bytes for
    /// `Accept: application/octet-stream`; 404 when absent.
    /// Answers through `completion`, possibly later on a Redis sender thread (the HTTP thread does
    /// not wait for Redis).
    func get(_ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, GatewayError>) -> Void) {
        let key: [UInt8]
        do {
            key = try validKey(request)
        } catch {
            return completion(.failure(error))
        }
        redis.execute(getCommands(key), label: request.route) { [self] replies in
            completion(replies.flatMap { replies in Result { () throws(GatewayError) in try getResponse(request, key, replies) } })
        }
    }

    private func getCommands(_ key: [UInt8]) -> [RedisCommand] {
        [RedisCommand(arguments: [Array("GET".utf8), key]), RedisCommand(arguments: [Array("TTL".utf8), key])]
    }

    private func getResponse(_ request: HTTPRequest, _ key: [UInt8], _ replies: [RedisValue]) throws(GatewayError) -> HTTPResponse {
        let value: [UInt8]
        switch replies[0] {
        case .bulk(let bytes): value = bytes
        case .null: throw .notFound("key not found")
        case .error(let message): throw .redisReply(message)
        case .status, .integer, .array: throw .redisReply("unexpected reply to GET")
        }
        let ttl = replies[1].integer ?? -1
        let tag = EntityTag(of: value)
        if let ifNoneMatch = request.header(lowercased: "if-none-match"), tag.isMatched(byIfNoneMatch: ifNoneMatch) {
            return HTTPResponse(status: 304, headers: [("ETag", tag.quoted), ("Vary", "Accept"), ("X-TTL", String(ttl))])
        }
        if wantsRawBytes(request) {
            return HTTPResponse(
                status: 200,
                headers: [("Content-Type", "application/octet-stream"), ("X-TTL", String(ttl)), ("ETag", tag.quoted), ("Vary", "Accept")],
                body: value
            )
        }
        if value.count.multipliedReportingOverflow(by: 6).partialValue + 2 * key.count > maxResponseBytes - 64,
            JSONString.quotedLength(value) + JSONString.quotedLength(key) > maxResponseBytes - 64
        {
            throw .payloadTooLarge(
                "the value's JSON would be larger than \(maxResponseBytes) bytes: read it with Accept: application/octet-stream")
        }
        var json = keyObject(key, capacity: 48 + key.count + value.count)
        if String(validating: value, as: UTF8.self) != nil {
            json.add("value", utf8: value)
        } else {
            json.add("value", string: Data(value).base64EncodedString())
            json.add("encoding", string: "base64")
        }
        json.add("ttl", ttl)
        return .json(200, json, headers: [("ETag", tag.quoted), ("Vary", "Accept")])
    }

    /// `PUT /cache/{key}?ttl=S&nx=1`: stores the body; 201 created, 200 replaced, 409 with nx when
    /// present. One command, `SET … GET` (its old value says whether the key existed) or `SET … NX`,
    /// so it takes the asynchronous path; answers through `completion`. With `If-Match`, the write
    /// is a compare-and-set in one script (`ConditionalSet`): 412 unless the stored value's tag is
    /// listed (`*`: any stored value). Every success carries the new value's `ETag`.
    func put(_ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, GatewayError>) -> Void) {
        let key: [UInt8]
        var set: [[UInt8]]
        let onlyIfAbsent: Bool
        do throws(GatewayError) {
            key = try validKey(request)
            set = [Array("SET".utf8), key, request.body]
            if let ttlText = request.queryValue("ttl") {
                guard let ttl = Int(ttlText), (1...Self.maxSeconds).contains(ttl) else {
                    throw .badRequest("ttl must be a whole number of seconds from 1 to \(Self.maxSeconds), got '\(ttlText)'")
                }
                set += [Array("EX".utf8), Array(String(ttl).utf8)]
            }
            onlyIfAbsent = try flag(request, "nx")
            if let ifMatch = request.header("if-match") {
                guard !onlyIfAbsent else {
                    throw .preconditionFailed("If-Match (a stored value) and nx=1 (no stored value) can never both hold")
                }
                let tags = EntityTag.ifMatchTags(ifMatch)
                return conditionalSet(
                    key, value: request.body, ttl: set.count > 3 ? set[4] : nil, tags: tags, label: request.route, completion: completion)
            }
        } catch {
            return completion(.failure(error))
        }
        let plainSet = set
        set.append(Array((onlyIfAbsent ? "NX" : "GET").utf8))
        redis.execute([RedisCommand(arguments: set)], label: request.route) { [self] result in
            switch result {
            case .success(let replies) where !onlyIfAbsent && replies[0].errorMessage?.hasPrefix("WRONGTYPE") == true:
                // SET … GET refuses a key of another type, which a plain SET replaces.
                replaceAnyType(key, set: plainSet, label: request.route, completion: completion)
            case .success(let replies):
                completion(
                    Result { () throws(GatewayError) in
                        if let message = replies[0].errorMessage { throw .redisReply(message) }
                        if onlyIfAbsent, replies[0] == .null { throw .conflict("key already exists (nx=1)") }
                        return stored(key, created: onlyIfAbsent || replies[0] == .null, value: request.body)
                    })
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }

    /// EXISTS and a plain SET in one transaction: atomic, one round trip, replaces any type.
    private func replaceAnyType(
        _ key: [UInt8], set: [[UInt8]], label: String, completion: @escaping @Sendable (Result<HTTPResponse, GatewayError>) -> Void
    ) {
        let transaction = [
            RedisCommand("MULTI"), RedisCommand(arguments: [Array("EXISTS".utf8), key]), RedisCommand(arguments: set), RedisCommand("EXEC"),
        ]
        redis.execute(transaction, label: label) { [self] result in
            completion(
                result.flatMap { replies in
                    Result { () throws(GatewayError) in
                        if let message = replies.lazy.compactMap(\.errorMessage).first { throw .redisReply(message) }
                        guard case .array(let results) = replies[3], results.count == 2 else { throw .redisReply("transaction aborted") }
                        if let message = results[1].errorMessage { throw .redisReply(message) }
                        return stored(key, created: results[0].integer == 0, value: set[2])
                    }
                })
        }
    }

    /// `SET` only if the stored value's tag is one of `tags`, in one script: atomic, so of two
    /// writers sending the same `If-Match`, exactly one wins.
    private func conditionalSet(
        _ key: [UInt8], value: [UInt8], ttl: [UInt8]?, tags: [String], label: String,
        completion: @escaping @Sendable (Result<HTTPResponse, GatewayError>) -> Void
    ) {
        let command = ConditionalSet.command(key: key, value: value, ttl: ttl, tags: tags)
        let tag = EntityTag(of: value)
        redis.execute([command], label: label) { [self] result in
            completion(
                result.flatMap { replies in
                    Result { () throws(GatewayError) in
                        if let message = replies[0].errorMessage { throw .redisReply(message) }
                        guard replies[0].integer == 1 else {
                            throw .preconditionFailed("the stored value does not match If-Match (changed, or absent)")
                        }
                        var response = stored(key, created: false)
                        response.headers.append(("ETag", tag.quoted))
                        return response
                    }
                })
        }
    }

    private func stored(_ key: [UInt8], created: Bool, value: [UInt8]? = nil) -> HTTPResponse {
        var json = keyObject(key)
        json.add("created", created)
        return .json(created ? 201 : 200, json, headers: value.map { [("ETag", EntityTag(of: $0).quoted)] } ?? [])
    }

    /// `DELETE /cache/{key}`: 204, or 404 when absent.
    func delete(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        let key = try validKey(request)
        let reply = try redis.execute(RedisCommand(arguments: [Array("DEL".utf8), key]), label: request.route)
        guard reply.integer == 1 else { throw .notFound("key not found") }
        return HTTPResponse(status: 204)
    }

    /// `POST /cache/{key}/expire` with `{"seconds": N}`: 200, or 404 when absent.
    func expire(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        let key = try validKey(request)
        let seconds = try expireSeconds(request.body)
        let reply = try redis.execute(
            RedisCommand(arguments: [Array("EXPIRE".utf8), key, Array(String(seconds).utf8)]), label: request.route)
        guard reply.integer == 1 else { throw .notFound("key not found") }
        var json = keyObject(key)
        json.add("ttl", seconds)
        return .json(200, json)
    }

    /// `DELETE /cache/{key}/expire`: removes the expiry (PERSIST); 404 when absent.
    func persist(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        let key = try validKey(request)
        let replies = try redis.execute(
            [
                RedisCommand(arguments: [Array("PERSIST".utf8), key]),
                RedisCommand(arguments: [Array("EXISTS".utf8), key]),
            ], label: request.route)
        if let message = replies.lazy.compactMap(\.errorMessage).first { throw .redisReply(message) }
        guard replies[1].integer == 1 else { throw .notFound("key not found") }
        var json = keyObject(key)
        json.add("ttl", -1)
        return .json(200, json)
    }

    /// `GET /cache/{key}/ttl`: `{"ttl": N}` (-1 without expiry); 404 when absent.
    func ttl(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        let key = try validKey(request)
        let reply = try redis.execute(RedisCommand(arguments: [Array("TTL".utf8), key]), label: request.route)
        guard let ttl = reply.integer, ttl != -2 else { throw .notFound("key not found") }
        var json = JSONObject()
        json.add("ttl", ttl)
        return .json(200, json)
    }

    /// `{"key": …` for a response about `key` (bytes that are not UTF-8 shown with U+FFFD).
    private func keyObject(_ key: [UInt8], capacity: Int = 64) -> JSONObject {
        var json = JSONObject(capacity: capacity)
        json.add("key", string: String(decoding: key, as: UTF8.self))
        return json
    }

    // MARK: Input checks

    private func validKey(_ request: HTTPRequest) throws(GatewayError) -> [UInt8] {
        guard let key = request.parameters["key"], !key.isEmpty else { throw .badRequest("key must not be empty") }
        guard key.count <= maxKeyBytes else {
            throw .badRequest("key is \(key.count) bytes; the limit is \(maxKeyBytes)")
        }
        if reserved.covers(key) { throw reserved.refusal }
        return key
    }

    private func flag(_ request: HTTPRequest, _ name: String) throws(GatewayError) -> Bool {
        switch request.queryValue(name) {
        case nil, "0", "false": return false
        case "", "1", "true": return true
        case let other?: throw .badRequest("\(name) must be 1 or 0, got '\(other)'")
        }
    }

    private func wantsRawBytes(_ request: HTTPRequest) -> Bool {
        guard let accept = request.header("accept") else { return false }
        return ASCIICase.contains(accept, lowercase: "application/octet-stream")
    }

    /// The longest expiry accepted (`ttl`, `seconds`): 2³¹ − 1 seconds, about 68 years, as
    /// openapi.yaml states; Redis itself refuses expiries whose milliseconds overflow.
    static let maxSeconds = 2_147_483_647

    private struct ExpireBody: Decodable {
        let seconds: Int
    }

    private func expireSeconds(_ body: [UInt8]) throws(GatewayError) -> Int {
        guard let decoded = try? JSONDecoder().decode(ExpireBody.self, from: Data(body)) else {
            throw .badRequest(#"body must be JSON {"seconds": N} with N a whole number"#)
        }
        guard (1...Self.maxSeconds).contains(decoded.seconds) else {
            throw .badRequest("seconds must be from 1 to \(Self.maxSeconds), got \(decoded.seconds)")
        }
        return decoded.seconds
    }
}
