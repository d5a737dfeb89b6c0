import ConnectionPool
import Foundation
import GatewayService
import RedisClient
import Synchronization
import TestSupport
import Testing

/// TLS to Redis against real `redis-server`s that listen on a TLS port only (`--port 0
/// --tls-port N`), with certificates the `openssl` CLI made (`TestCertificates`): every path to
/// Redis (shared leases, exclusive leases, the subscriber link) over TLS, each certificate problem
/// named in `/pool/health`'s 503, mTLS, and reconnects after a restart.
@Suite struct RedisTLSTests {
    let certificates = TestCertificates.shared

    func server(certificate: String? = nil, authenticateClients: Bool = false) -> RedisServer {
        var files = RedisServer.TLSFiles(
            certificate: certificate ?? certificates.serverCertificate, key: certificates.serverKey, ca: certificates.ca)
        files.authenticateClients = authenticateClients
        files.clientCertificate = certificates.clientCertificate
        files.clientKey = certificates.clientKey
        return RedisServer(tls: files)
    }

    func gateway(_ server: RedisServer, _ adjust: (inout RedisTLSSettings) -> Void = { _ in }) throws -> GatewayHarness {
        try GatewayHarness(redisURL: server.url) { configuration in
            configuration.redisTLS.caFile = certificates.ca
            adjust(&configuration.redisTLS)
            configuration.pool.minIdle = 0
        }
    }

    /// `/pool/health` once it answers 503, with its error.
    func unhealthy(_ harness: GatewayHarness) -> (status: Int, error: String) {
        let response = harness.request("GET", "/pool/health")
        return (response.status, response.text)
    }

    @Test func everyPathToRedisWorksOverTLS() throws {
        let redis = server()
        let harness = try gateway(redis)
        #expect(harness.request("PUT", "/cache/greeting", text: "hello over TLS").status == 201)
        #expect(harness.request("GET", "/cache/greeting").text.contains(#""value":"hello over TLS""#))
        #expect(harness.request("GET", "/get/greeting").text == #"{"result":"hello over TLS"}"#)
        // A batch past the shared limit takes an exclusive lease; MULTI/EXEC too.
        let batch = "[" + (0..<20).map { _ in #"["INCR","tls-counter"]"# }.joined(separator: ",") + "]"
        #expect(harness.request("POST", "/pipeline", text: batch).text.hasSuffix(#"{"result":20}]"#))
        #expect(
            harness.request("POST", "/multi-exec", text: #"[["SET","m","1"],["GET","m"]]"#).text == #"[{"result":"OK"},{"result":"1"}]"#)
        // A reply of several TLS records (16 KiB each) and one past the reply budget.
        let large = String(repeating: "x", count: 300_000)
        #expect(harness.request("PUT", "/cache/large", text: large).status == 201)
        #expect(harness.request("GET", "/get/large").text.count == large.count + 13)
        #expect(harness.request("GET", "/pool/health").status == 200)
        #expect(redis.command(["GET", "greeting"]) == "hello over TLS", "the gateway wrote to the TLS-only server")
    }

    @Test func aReplyPastTheBudgetIsReadThroughOverTLSAndTheConnectionStaysInStep() throws {
        let redis = server()
        let harness = try GatewayHarness(redisURL: redis.url) { configuration in
            configuration.redisTLS.caFile = certificates.ca
            configuration.redis.maxReplyBytes = 100_000
            configuration.pool.maxConnections = 1
        }
        #expect(harness.request("PUT", "/cache/huge", text: String(repeating: "y", count: 500_000)).status == 201)
        #expect(harness.request("GET", "/get/huge").status == 413)
        #expect(harness.request("PUT", "/cache/small", text: "after").status == 201)
        #expect(harness.request("GET", "/get/small").text == #"{"result":"after"}"#, "the next caller gets its own reply")
        #expect(harness.request("GET", "/pool/stats").text.contains(#""open":1"#), "the one connection was kept, in step")
    }

    @Test func anUnknownCAIsRefusedAndNamedIn503() throws {
        let redis = server()
        let harness = try gateway(redis) { $0.caFile = certificates.otherCA }
        let health = unhealthy(harness)
        #expect(health.status == 503)
        #expect(health.error.contains("issuer is unknown"), "\(health.error)")
        #expect(harness.request("GET", "/get/x").status == 503)
    }

    @Test func aNameMismatchIsRefused() throws {
        let redis = server()
        let harness = try gateway(redis) { $0.serverName = "not-this-server.example" }
        let health = unhealthy(harness)
        #expect(health.status == 503)
        #expect(health.error.contains("does not match"), "\(health.error)")
    }

    @Test func anExpiredCertificateIsRefusedAndThePoolBacksOff() throws {
        let redis = server(certificate: certificates.expiredServerCertificate)
        let harness = try gateway(redis)
        let health = unhealthy(harness)
        #expect(health.status == 503)
        #expect(health.error.contains("expired"), "\(health.error)")
        // A refused certificate is a connect failure under the probe backoff: requests fail fast
        // and the pool does not redial for each of them.
        let before = connectFailures(harness)
        let start = ContinuousClock.now
        for _ in 0..<50 { #expect(harness.request("GET", "/get/x").status == 503) }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(connectFailures(harness) - before < 10, "the pool does not dial once per request")
    }

    @Test func verifyNoneAcceptsAnyCertificate() throws {
        let redis = server(certificate: certificates.expiredServerCertificate)
        let harness = try gateway(redis) { settings in
            settings.caFile = certificates.otherCA
            settings.verify = .none
        }
        #expect(harness.request("PUT", "/cache/k", text: "v").status == 201)
    }

    @Test func mutualTLSNeedsTheClientCertificate() throws {
        let redis = server(authenticateClients: true)
        let without = try gateway(redis)
        let health = unhealthy(without)
        #expect(health.status == 503, "\(health.error)")
        #expect(health.error.contains("TLS"), "\(health.error)")
        let with = try gateway(redis) { settings in
            settings.certificateFile = certificates.clientCertificate
            settings.keyFile = certificates.clientKey
        }
        #expect(with.request("PUT", "/cache/mtls", text: "ok").status == 201)
        #expect(with.request("GET", "/get/mtls").text == #"{"result":"ok"}"#)
    }

    /// Redis restarted under load: every request answers within a bound (success, or a fast 503
    /// while Redis is down), and the pool reconnects over TLS.
    @Test func aRestartedServerIsReachedAgainOverTLSUnderLoad() throws {
        let redis = server()
        let harness = try gateway(redis)
        #expect(harness.request("PUT", "/cache/before", text: "1").status == 201)
        let stop = Atomic<Bool>(false)
        let slowest = Atomic<Int>(0)
        let served = Atomic<Int>(0)
        let workers = (0..<4).map { index in
            TestThread {
                let client = HTTPTestClient(port: harness.gateway.port)
                var n = 0
                while !stop.load(ordering: .relaxed) {
                    n += 1
                    let start = ContinuousClock.now
                    let status = client.request("PUT", "/cache/load-\(index)-\(n)", body: Array("v".utf8))?.status ?? -1
                    let elapsed = ContinuousClock.now - start
                    slowest.max(
                        Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000), ordering: .relaxed)
                    if status == 201 { served.add(1, ordering: .relaxed) }
                }
            }
        }
        for worker in workers { worker.start() }
        #expect(eventually { served.load(ordering: .relaxed) > 50 })
        redis.restart()
        let servedAtRestart = served.load(ordering: .relaxed)
        #expect(eventually(within: .seconds(10)) { served.load(ordering: .relaxed) > servedAtRestart + 50 }, "served again over TLS")
        stop.store(true, ordering: .relaxed)
        for worker in workers { worker.join() }
        // The wait timeout (2 s) plus a socket timeout (1 s) bounds every request, down or not.
        #expect(slowest.load(ordering: .relaxed) < 4000, "slowest request: \(slowest.load(ordering: .relaxed)) ms")
        #expect(harness.request("GET", "/get/before").status == 200)
    }

    @Test func eventStreamsUseTheSubscriberLinkOverTLS() throws {
        let redis = server()
        let harness = try gateway(redis)
        guard let stream = EventStreamClient(port: harness.gateway.port, target: "/subscribe/tls-news") else {
            Issue.record("cannot connect")
            return
        }
        #expect(stream.readHead() == 200)
        #expect(stream.next() == "data: subscribe,tls-news,1")
        #expect(harness.request("POST", "/publish/tls-news/hello").text == #"{"result":1}"#)
        #expect(stream.next() == "data: message,tls-news,hello")
    }

    @Test func aMissingCAFileStopsTheStartNamingIt() throws {
        let redis = server()
        #expect(throws: GatewayStartError.self) { _ = try gateway(redis) { $0.caFile = "/nonexistent/ca.pem" } }
        do {
            _ = try gateway(redis) { $0.caFile = "/nonexistent/ca.pem" }
        } catch {
            #expect("\(error)".contains("/nonexistent/ca.pem"))
        }
    }

    func connectFailures(_ harness: GatewayHarness) -> Int {
        let text = harness.request("GET", "/pool/stats").text
        guard let range = text.range(of: #""connect_failures":"#) else { return -1 }
        return Int(text[range.upperBound...].prefix { $0.isNumber }) ?? -1
    }
}
