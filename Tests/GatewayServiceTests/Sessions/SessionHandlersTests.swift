import ConnectionPool
import Crypto
import Foundation
import GatewayService
import HTTPServer
import RedisClient
import Synchronization
import TestSupport
import Testing

/// The session-cache example end to end: login, cache-aside data, stampede protection,
/// invalidation, negative caching, logout, Redis down.
@Suite struct SessionHandlersTests {
    /// A server of its own per test: session and user keys have fixed names (`__gateway:user_data:{id}`).
    let redis = RedisServer()

    func login(_ harness: GatewayHarness, user: Int) -> (sid: String, response: TestResponse) {
        let response = harness.request("POST", "/api/login", text: #"{"user_id": \#(user), "password": "demo-password"}"#)
        let cookie = response.headers["set-cookie"] ?? ""
        let sid = cookie.hasPrefix("sid=") ? String(cookie.dropFirst(4).prefix { $0 != ";" }) : ""
        return (sid, response)
    }

    /// Where a session lives: the SHA-256 of its id, under the reserved prefix.
    func sessionKey(_ sid: String) -> String {
        "__gateway:session:" + SHA256.hash(data: Array(sid.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func stats(_ harness: GatewayHarness) -> [String: Any] {
        let body = harness.request("GET", "/pool/stats").body
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        return json?["session_cache"] as? [String: Any] ?? [:]
    }

    @Test func loginSetsAnHttpOnlyCookieAndASessionInRedis() throws {
        let harness = try GatewayHarness(redisURL: redis.url)
        let (sid, response) = login(harness, user: 7)
        #expect(response.status == 200)
        #expect(sid.count == 32)
        let cookie = try #require(response.headers["set-cookie"])
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/") && !cookie.contains("Secure"))
        #expect(response.text.contains(#""session_id":"\#(sid)""#))
        #expect(redis.command(["GET", sessionKey(sid)])?.hasPrefix("7:") == true, "the user, sealed to the key")
        #expect(redis.command(["EXISTS", "session:\(sid)"]) == ":0" && redis.command(["EXISTS", "__gateway:session:\(sid)"]) == ":0")
        #expect(Int(redis.command(["TTL", sessionKey(sid)])?.dropFirst() ?? "") ?? 0 > 1790)
        #expect(login(harness, user: 100_000).response.status == 401, "unknown users cannot log in")
        #expect(harness.request("POST", "/api/login", text: "{}").status == 400)
        let secure = try GatewayHarness(redisURL: redis.url) { $0.session.secureCookie = true }
        #expect(login(secure, user: 1).response.headers["set-cookie"]?.contains("Secure") == true)
    }

    /// Once the script is loaded, hits and misses take the asynchronous path; a flushed script
    /// (a Redis restart, `SCRIPT FLUSH`) is loaded again and the request still answers.
    @Test func theAsynchronousPathServesMissesAndSurvivesAFlushedScript() throws {
        let harness = try GatewayHarness(redisURL: redis.url)
        let (sid, _) = login(harness, user: 4)
        let session = [("Authorization", "Session \(sid)")]
        #expect(harness.request("GET", "/api/data", headers: session).status == 200, "loads the script")
        redis.command(["DEL", "__gateway:user_data:4"])
        let miss = harness.request("GET", "/api/data", headers: session)
        #expect(miss.status == 200 && miss.headers["x-cache"] == "miss" && miss.text.contains("user4@example.com"))
        #expect(harness.request("GET", "/api/data", headers: session).headers["x-cache"] == "hit")
        #expect(redis.command(["SCRIPT", "FLUSH"]) == "+OK")
        let afterFlush = harness.request("GET", "/api/data", headers: session)
        #expect(afterFlush.status == 200 && afterFlush.headers["x-cache"] == "hit", "\(afterFlush.text)")
        #expect(harness.request("GET", "/api/data", headers: [("Authorization", "Session 0123456789abcdef0123456789abcdef")]).status == 401)
    }

    @Test func dataIsAMissThenAHitAndTheSessionSlides() throws {
        let harness = try GatewayHarness(redisURL: redis.url)
        let (sid, _) = login(harness, user: 3)
        redis.command(["DEL", "__gateway:user_data:3"])
        redis.command(["EXPIRE", sessionKey(sid), "100"])
        let first = harness.request("GET", "/api/data", headers: [("Cookie", "theme=dark; sid=\(sid)")])
        #expect(first.status == 200)
        #expect(first.headers["x-cache"] == "miss")
        #expect(first.text.contains(#""email":"user3@example.com""#))
        let second = harness.request("GET", "/api/data", headers: [("Authorization", "Session \(sid)")])
        #expect(second.headers["x-cache"] == "hit")
        #expect(second.body == first.body)
        #expect(Int(redis.command(["TTL", sessionKey(sid)])?.dropFirst() ?? "") ?? 0 > 1790, "the session TTL was refreshed")
        #expect(Int(redis.command(["TTL", "__gateway:user_data:3"])?.dropFirst() ?? "") ?? 0 > 3590)
    }

    @Test func noValidSessionIs401() throws {
        let harness = try GatewayHarness(redisURL: redis.url)
        #expect(harness.request("GET", "/api/data").status == 401)
        #expect(harness.request("GET", "/api/data", headers: [("Cookie", "sid=not-hex")]).status == 401)
        #expect(harness.request("GET", "/api/data", headers: [("Cookie", "sid=\(String(repeating: "a", count: 32))")]).status == 401)
    }

    @Test(.timeLimit(.minutes(1)))
    func fiftyConcurrentFirstRequestsReadTheDatabaseOnce() throws {
        let harness = try GatewayHarness(redisURL: redis.url) {
            $0.http.workerThreads = 16; $0.pool.maxConnections = 16
        }
        let user = 42
        let (sid, _) = login(harness, user: user)
        redis.command(["DEL", "__gateway:user_data:\(user)"])
        let readsBefore = stats(harness)["database_reads"] as? Int ?? -1
        let statuses = Mutex<[Int]>([])
        let start = DispatchSemaphore(value: 0)
        let threads = (0..<50).map { _ in
            TestThread {
                start.wait()
                let status = harness.request("GET", "/api/data", headers: [("Cookie", "sid=\(sid)")]).status
                statuses.withLock { $0.append(status) }
            }
        }
        threads.forEach { $0.start() }
        for _ in threads { start.signal() }
        threads.forEach { $0.join() }
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 50))
        let after = stats(harness)
        #expect((after["database_reads"] as? Int ?? -1) - readsBefore == 1, "stats: \(after)")
    }

    @Test func anUpdateInvalidatesTheCachedCopy() throws {
        let harness = try GatewayHarness(redisURL: redis.url)
        let (sid, _) = login(harness, user: 5)
        let cookie = [("Cookie", "sid=\(sid)")]
        _ = harness.request("GET", "/api/data", headers: cookie)
        #expect(harness.request("GET", "/api/data", headers: cookie).headers["x-cache"] == "hit")
        for round in 1...20 {
            let update = harness.request("PUT", "/api/users/5", text: #"{"name": "Renamed \#(round)"}"#)
            #expect(update.status == 200)
            let read = harness.request("GET", "/api/data", headers: cookie)
            #expect(read.text.contains("Renamed \(round)"), "round \(round) read \(read.text)")
        }
        #expect(harness.request("PUT", "/api/users/100000", text: #"{"name": "x"}"#).status == 404)
        #expect(harness.request("PUT", "/api/users/5", text: #"{}"#).status == 400)
        #expect(harness.request("PUT", "/api/users/5", text: #"{"name": "x", "email": null}"#).status == 400, "null is not a string")
        #expect(harness.request("PUT", "/api/users/5", text: #"{"name": 7}"#).status == 400)
        let typo = harness.request("PUT", "/api/users/5", text: #"{"emial": "a@b.c"}"#)
        #expect(typo.status == 400 && typo.text.contains("'emial' is not one of them"))
        #expect(harness.request("PUT", "/api/users/abc", text: #"{"name": "x"}"#).status == 400)
    }

    @Test func aDeletedUserIs404AndTheAbsenceIsCachedBriefly() throws {
        let path = temporaryDatabasePath()
        let harness = try GatewayHarness(redisURL: redis.url) {
            $0.session.databasePath = path; $0.session.negativeCacheTTLSeconds = 30
        }
        let (sid, _) = login(harness, user: 9)
        redis.command(["DEL", "__gateway:user_data:9"])
        // Delete the user behind the gateway's back, in the origin database.
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = [
            "python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM users WHERE id=9'); c.commit()",
            path,
        ]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        let readsBefore = stats(harness)["database_reads"] as? Int ?? -1
        let first = harness.request("GET", "/api/data", headers: [("Cookie", "sid=\(sid)")])
        #expect(first.status == 404)
        for _ in 0..<5 {
            let again = harness.request("GET", "/api/data", headers: [("Cookie", "sid=\(sid)")])
            #expect(again.status == 404 && again.headers["x-cache"] == "hit")
        }
        #expect((stats(harness)["database_reads"] as? Int ?? -1) - readsBefore == 1, "the absence was cached")
        let ttl = Int(redis.command(["TTL", "__gateway:user_data:9"])?.dropFirst() ?? "") ?? 0
        #expect(ttl > 0 && ttl <= 30)
    }

    @Test func logoutEndsTheSession() throws {
        let harness = try GatewayHarness(redisURL: redis.url)
        let (sid, _) = login(harness, user: 2)
        let logout = harness.request("POST", "/api/logout", headers: [("Cookie", "sid=\(sid)")])
        #expect(logout.status == 204)
        #expect(logout.headers["set-cookie"]?.contains("Max-Age=0") == true)
        #expect(redis.command(["EXISTS", sessionKey(sid)]) == ":0")
        #expect(harness.request("GET", "/api/data", headers: [("Cookie", "sid=\(sid)")]).status == 401)
    }

    @Test func redisDownIsAFast503() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url)
        let (sid, _) = login(harness, user: 1)
        server.stop()
        let clock = ContinuousClock()
        let start = clock.now
        let response = harness.request("GET", "/api/data", headers: [("Cookie", "sid=\(sid)")])
        #expect(response.status == 503)
        #expect(clock.now - start < .seconds(1))
        #expect(harness.gateway.pool!.statistics.inUse == 0)
    }

    @Test func statsCountHitsMissesReadsAndJoins() throws {
        let harness = try GatewayHarness(redisURL: redis.url)
        let (sid, _) = login(harness, user: 11)
        redis.command(["DEL", "__gateway:user_data:11"])
        _ = harness.request("GET", "/api/data", headers: [("Cookie", "sid=\(sid)")])
        _ = harness.request("GET", "/api/data", headers: [("Cookie", "sid=\(sid)")])
        let session = stats(harness)
        #expect(session["hits"] as? Int == 1 && session["misses"] as? Int == 1)
        #expect(session["single_flight_joins"] as? Int == 0)
        let metrics = harness.request("GET", "/metrics").text
        for name in [
            "gateway_session_cache_hits_total", "gateway_session_cache_misses_total", "gateway_session_database_reads_total",
            "gateway_session_single_flight_joins_total",
        ] {
            #expect(metrics.contains(name), "missing \(name)")
        }
    }
}
