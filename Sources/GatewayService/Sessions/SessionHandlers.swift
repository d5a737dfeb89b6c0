import ConnectionPool
import CoreUtilities
import Foundation
import HTTPServer
import RedisClient
import Synchronization
import UserDatabase

/// The session-cache example as a service: login with a password (limited per address and per
/// user) into a server-side session in Redis, then `/api/data` served cache-aside from the SQLite
/// origin database, with single-flight loads, negative caching and write-through invalidation.
/// Every key lives under the reserved prefix, which the cache and command APIs refuse, and every
/// value is sealed (`SessionSeal`), so no token can forge a session or read or alter a user's data.
///
/// Threading: shared by all worker threads; state is atomic or locked.
struct SessionHandlers: Sendable {
    let redis: RedisExecutor
    let users: UserStore
    let configuration: SessionConfiguration
    let metrics: SessionMetrics
    let flights: SingleFlight<Int64, CachedUser>
    let script: SessionScript
    let generations: UserGenerations
    let seal: SessionSeal
    let limiter: LoginLimiter

    /// What the cache holds for a user: their JSON, or the fact that they do not exist.
    enum CachedUser: Sendable, Equatable {
        case found([UInt8])
        case missing
    }

    static let missingMarker = Array("__missing__".utf8)

    /// `POST /api/login` with `{"user_id": N, "password": "..."}`: a new session for a user whose
    /// password it is. The attempt is counted first (429 past the limits); an unknown user and a
    /// wrong password get the same 401, after the same work.
    func login(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        struct Body: Decodable {
            let user_id: Int64
            let password: String
        }
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(request.body)), body.user_id > 0 else {
            throw .badRequest(#"body must be JSON {"user_id": N, "password": "..."} with N a positive whole number"#)
        }
        try limiter.attempt(userID: body.user_id, from: request.clientAddress, redis: redis)
        metrics.databaseRead()
        let valid: Bool
        do {
            valid = try users.checkPassword(id: body.user_id, password: body.password)
        } catch {
            throw .database(String(describing: error))
        }
        guard valid else { throw .notLoggedIn("wrong user id or password") }
        var generator = SystemRandomNumberGenerator()
        let sid = (0..<2).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
        let ttl = configuration.sessionTTLSeconds
        let key = seal.sessionKey(sid)
        _ = try redis.execute(
            RedisCommand(
                "SET", [key], bytes: [seal.sessionValue(userID: body.user_id, key: key), Array("EX".utf8), Array(String(ttl).utf8)]),
            label: request.route)
        var json = JSONObject()
        json.add("session_id", string: sid)
        json.add("user_id", body.user_id)
        json.add("expires_in", ttl)
        return .json(200, json, headers: [("Set-Cookie", cookie(sid, maxAge: ttl))])
    }

    /// `GET /api/data`: the logged-in user's data, cache-aside; `X-Cache: hit|miss`.
    func data(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        let sid = try sessionID(request)
        // One round trip: read the session, refresh its TTL, read the cached data.
        let key = seal.sessionKey(sid)
        guard let (value, data) = try script.sessionAndData(key: key, ttl: configuration.sessionTTLSeconds, seal: seal, redis: redis),
            let (userID, cached) = verified(session: value, data: data, key: key)
        else {
            throw .notLoggedIn("the session is missing or expired; log in again")
        }
        return try answer(userID: userID, cached: cached)
    }

    /// The session's user and its cached data, opened; nil when the session value was not sealed
    /// for this key by this gateway's secret (forged or copied). Data that does not open is not
    /// cached data (nil): it is loaded again and replaced.
    private func verified(session value: [UInt8], data: [UInt8]?, key: String) -> (Int64, [UInt8]?)? {
        guard let userID = seal.userID(fromSession: value, key: key) else { return nil }
        return (userID, data.flatMap { seal.openUserData($0, key: seal.userDataKey(userID)) })
    }

    /// `data` without holding the HTTP thread while Redis works: once the script is loaded (and on
    /// one Redis), the script's round trip takes the asynchronous path, and a hit is answered from
    /// the sender thread. A miss (the database and single-flight may block) and anything unusual
    /// (script not loaded, a cluster) continue on a thread for waiting work (`RedisExecutor.offload`).
    func data(_ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, GatewayError>) -> Void) {
        let sid: String
        do {
            sid = try sessionID(request)
        } catch {
            return completion(.failure(error))
        }
        let blocking: @Sendable () -> Void = { [self] in
            redis.offload({ completion(Result { () throws(GatewayError) in try data(request) }) }) { completion(.failure($0)) }
        }
        guard !redis.isCluster, let sha = script.loadedSHA else { return blocking() }
        let key = seal.sessionKey(sid)
        let command = SessionScript.call(sha: sha, key: key, ttl: configuration.sessionTTLSeconds, userDataPrefix: seal.userDataPrefix)
        redis.execute([command], label: "GET /api/data") { [self] result in
            let outcome: SessionScript.Outcome
            do throws(GatewayError) {
                outcome = try SessionScript.outcome(of: try result.get()[0])
            } catch {
                return completion(.failure(error))
            }
            switch outcome {
            case .noSession:
                completion(.failure(.notLoggedIn("the session is missing or expired; log in again")))
            case .found(let value, let data):
                switch verified(session: value, data: data, key: key) {
                case nil:
                    completion(.failure(.notLoggedIn("the session is missing or expired; log in again")))
                case (let userID, let cached?)?:
                    completion(Result { () throws(GatewayError) in try answer(userID: userID, cached: cached) })
                case (let userID, nil)?:
                    redis.offload({ completion(Result { () throws(GatewayError) in try answer(userID: userID, cached: nil) }) }) {
                        completion(.failure($0))
                    }
                }
            case .scriptMissing:
                blocking()
            }
        }
    }

    /// The response for a session's user and what the cache held (nil: load through single-flight).
    private func answer(userID: Int64, cached: [UInt8]?) throws(GatewayError) -> HTTPResponse {
        if let cached {
            metrics.hit()
            return try respond(cached == Self.missingMarker ? .missing : .found(cached), userID: userID, cache: "hit")
        }
        metrics.miss()
        let (value, role) = try flights.value(for: userID) { () throws(GatewayError) in try load(userID) }
        if role == .joined { metrics.joined() }
        return try respond(value, userID: userID, cache: "miss")
    }

    /// `POST /api/logout`: deletes the session and clears the cookie.
    func logout(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        let sid = try sessionID(request)
        _ = try redis.execute(RedisCommand("DEL", seal.sessionKey(sid)), label: request.route)
        return HTTPResponse(status: 204, headers: [("Set-Cookie", cookie("", maxAge: 0))])
    }

    /// `PUT /api/users/{id}` with `{"name": ..., "email": ...}`: updates the database, then
    /// invalidates the cached copy so the next read is fresh.
    func updateUser(_ request: HTTPRequest) throws(GatewayError) -> HTTPResponse {
        guard let text = request.parameterString("id"), let id = Int64(text), id > 0 else {
            throw .badRequest("the user id must be a positive whole number")
        }
        let body = try UserUpdate(parsing: request.body)
        let updated: User?
        do {
            updated = try users.update(id: id, name: body.name, email: body.email)
        } catch {
            throw .database(String(describing: error))
        }
        guard let updated else { throw .notFound("no such user: \(id)") }
        generations.bump(id)
        _ = try redis.execute(RedisCommand("DEL", seal.userDataKey(id)), label: request.route)
        return .json(200, bytes: Self.json(updated))
    }

    // MARK: Steps

    /// The leader's load: re-check the cache (a load may have just finished), read the database,
    /// store the result (or the user's absence, briefly), unless an update raced it.
    private func load(_ userID: Int64) throws(GatewayError) -> CachedUser {
        let key = seal.userDataKey(userID)
        if case .bulk(let sealed) = try redis.execute(RedisCommand("GET", key), label: "GET /api/data"),
            let bytes = seal.openUserData(sealed, key: key)
        {
            return bytes == Self.missingMarker ? .missing : .found(bytes)
        }
        let generation = generations.current(userID)
        metrics.databaseRead()
        let user: User?
        do {
            user = try users.user(id: userID)
        } catch {
            throw .database(String(describing: error))
        }
        let value: CachedUser = user.map { .found(Self.json($0)) } ?? .missing
        guard generations.current(userID) == generation else { return value }  // updated meanwhile: do not cache
        let ttl = user == nil ? configuration.negativeCacheTTLSeconds : configuration.userCacheTTLSeconds
        let bytes: [UInt8]
        switch value {
        case .found(let json): bytes = json
        case .missing: bytes = Self.missingMarker
        }
        _ = try redis.execute(
            RedisCommand("SET", [key], bytes: [seal.sealUserData(bytes, key: key), Array("EX".utf8), Array(String(ttl).utf8)]),
            label: "GET /api/data")
        if generations.current(userID) != generation {
            // An update slipped in: drop what we stored.
            _ = try redis.execute(RedisCommand("DEL", key), label: "GET /api/data")
        }
        return value
    }

    private func respond(_ value: CachedUser, userID: Int64, cache: String) throws(GatewayError) -> HTTPResponse {
        switch value {
        case .found(let json):
            return .json(200, bytes: json, headers: [("X-Cache", cache)])
        case .missing:
            throw .userGone("user \(userID) no longer exists", cache: cache)
        }
    }

    /// The session id from the `sid` cookie or `Authorization: Session <sid>`.
    private func sessionID(_ request: HTTPRequest) throws(GatewayError) -> String {
        var candidate: Substring?
        if let cookies = request.header("cookie") {
            for part in cookies.split(separator: ";") {
                let pair = part.drop { $0 == " " }
                if pair.hasPrefix("sid=") { candidate = pair.dropFirst(4) }
            }
        }
        if candidate == nil, let authorization = request.header("authorization"), authorization.hasPrefix("Session ") {
            candidate = authorization.dropFirst("Session ".count)
        }
        guard let sid = candidate, sid.count == 32, sid.allSatisfy(\.isHexDigit) else {
            throw .notLoggedIn("not logged in: POST /api/login first")
        }
        return String(sid)
    }

    private func cookie(_ sid: String, maxAge: Int) -> String {
        "sid=\(sid); Path=/; HttpOnly; SameSite=Lax; Max-Age=\(maxAge)" + (configuration.secureCookie ? "; Secure" : "")
    }

    static func json(_ user: User) -> [UInt8] {
        var json = JSONObject()
        json.add("created_at", string: user.createdAt)
        json.add("email", string: user.email)
        json.add("id", user.id)
        json.add("name", string: user.name)
        return json.bytes
    }
}

/// The Lua script that reads a session, refreshes its TTL and reads the user's cached data in one
/// round trip (EVALSHA, loaded once; reloaded after a Redis restart empties the script cache). It
/// returns what it read, unverified: the session's value (`<user id>:<HMAC>`) and the sealed data;
/// `SessionSeal` judges both.
///
/// On a cluster the session key and the user-data key live in different slots, which one script
/// may not touch together; there it takes two round trips instead: `GET` + `EXPIRE` of the session
/// (one pipeline, one node), then `GET` of the user's data. The keys stay the same on both topologies.
final class SessionScript: Sendable {
    static let source = """
        local value = redis.call('GET', KEYS[1])
        if not value then return false end
        redis.call('EXPIRE', KEYS[1], ARGV[1])
        local uid = string.match(value, '^(%d+):')
        if not uid then return {value, false} end
        return {value, redis.call('GET', ARGV[2] .. uid)}
        """
    private let sha = Mutex<String?>(nil)

    /// The script's SHA once it has been loaded.
    var loadedSHA: String? { sha.withLock { $0 } }

    /// The script's call for the session at `key`, refreshing it to `ttl` seconds; user data is
    /// read at `userDataPrefix` + the session's user id.
    static func call(sha: String, key: String, ttl: Int, userDataPrefix: String) -> RedisCommand {
        RedisCommand("EVALSHA", sha, "1", key, String(ttl), userDataPrefix)
    }

    /// What one script reply says.
    enum Outcome: Sendable {
        /// No such session.
        case noSession
        /// The session's stored value, and the stored (sealed) data of the user it names, if any.
        case found([UInt8], [UInt8]?)
        /// Redis does not have the script (restarted, or `SCRIPT FLUSH`).
        case scriptMissing
    }

    /// Reads the script's `reply`; an error reply other than NOSCRIPT throws.
    static func outcome(of reply: RedisValue) throws(GatewayError) -> Outcome {
        switch reply {
        case .null:
            return .noSession
        case .array(let parts) where parts.count == 2:
            guard let value = parts[0].bytes else { throw .redisReply("malformed session value") }
            if case .bulk(let data) = parts[1] { return .found(value, data) }
            return .found(value, nil)
        case .error(let message) where message.hasPrefix("NOSCRIPT"):
            return .scriptMissing
        case .error(let message):
            throw .redisReply(message)
        case .array, .status, .integer, .bulk:
            throw .redisReply("unexpected reply from the session script")
        }
    }

    /// (session value, stored data or nil), or nil when there is no session at `key`.
    func sessionAndData(key: String, ttl: Int, seal: SessionSeal, redis: RedisExecutor) throws(GatewayError) -> ([UInt8], [UInt8]?)? {
        if redis.isCluster { return try twoRoundTrips(key: key, ttl: ttl, seal: seal, redis: redis) }
        for attempt in 0..<2 {
            let loaded: String
            if let known = loadedSHA, attempt == 0 {
                loaded = known
            } else {
                guard case .bulk(let bytes) = try redis.execute(RedisCommand("SCRIPT", "LOAD", Self.source), label: "GET /api/data") else {
                    throw .redisReply("SCRIPT LOAD did not return a SHA")
                }
                loaded = String(decoding: bytes, as: UTF8.self)
                sha.withLock { $0 = loaded }
            }
            let reply = try redis.execute(
                [Self.call(sha: loaded, key: key, ttl: ttl, userDataPrefix: seal.userDataPrefix)], label: "GET /api/data")[0]
            switch try Self.outcome(of: reply) {
            case .noSession: return nil
            case .found(let value, let data): return (value, data)
            case .scriptMissing: continue
            }
        }
        throw .redisReply("the session script could not be loaded")
    }

    private func twoRoundTrips(key: String, ttl: Int, seal: SessionSeal, redis: RedisExecutor) throws(GatewayError) -> ([UInt8], [UInt8]?)?
    {
        let session = try redis.execute([RedisCommand("GET", key), RedisCommand("EXPIRE", key, String(ttl))], label: "GET /api/data")
        switch session[0] {
        case .null:
            return nil
        case .bulk(let value):
            guard let userID = seal.userID(fromSession: value, key: key) else { return (value, nil) }
            let data = try redis.execute(RedisCommand("GET", seal.userDataKey(userID)), label: "GET /api/data")
            return (value, data.bytes)
        case .error(let message):
            throw .redisReply(message)
        case .array, .status, .integer:
            throw .redisReply("unexpected reply to GET of a session")
        }
    }
}

/// Per-user update counters: a load that started before an update must not cache what it read.
final class UserGenerations: Sendable {
    private let generations = Mutex<[Int64: UInt64]>([:])

    func current(_ id: Int64) -> UInt64 {
        generations.withLock { $0[id, default: 0] }
    }

    func bump(_ id: Int64) {
        generations.withLock { $0[id, default: 0] += 1 }
    }
}

extension String {
    /// The string with leading zeros up to `width` characters.
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
