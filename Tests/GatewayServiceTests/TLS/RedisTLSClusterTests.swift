import Foundation
import GatewayService
import RedisClient
import TestSupport
import Testing

/// A 3-primary, 3-replica Redis Cluster with `tls-cluster yes` (TLS-only client ports, bus and
/// replication over TLS): discovery reads the TLS ports the nodes announce, and every node is
/// reached over TLS, for single keys, splits across slots, batches and redirects.
@Suite(.serialized) struct RedisTLSClusterTests {
    static let cluster: RedisClusterNodes = {
        let certificates = TestCertificates.shared
        var files = RedisServer.TLSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey, ca: certificates.ca)
        files.clientCertificate = certificates.clientCertificate
        files.clientKey = certificates.clientKey
        do {
            let cluster = try RedisClusterNodes(tls: files)
            atexit { RedisTLSClusterTests.cluster.stop() }
            return cluster
        } catch {
            fatalError("cannot start the TLS test cluster: \(error)")
        }
    }()

    func harness() throws -> GatewayHarness {
        let harness = try GatewayHarness(redisURL: Self.cluster.url) { $0.redisTLS.caFile = TestCertificates.shared.ca }
        #expect(eventually(within: .seconds(10)) { harness.request("GET", "/readyz").status == 200 })
        return harness
    }

    @Test func keysInEverySlotRangeAreReachedOverTLS() throws {
        let harness = try harness()
        let keys = (0..<60).map { "tls-cluster:\(UInt32.random(in: 0..<UInt32.max)):\($0)" }
        for key in keys { #expect(harness.request("PUT", "/cache/\(key)", text: "v-\(key)").status == 201) }
        for key in keys { #expect(harness.request("GET", "/get/\(key)").text == #"{"result":"v-\#(key)"}"#) }
        // Every primary got some of the keys: all three were dialled over TLS.
        for primary in Self.cluster.primaries { #expect((Int(primary.command(["DBSIZE"]) ?? "") ?? 0) > 0) }
        let mget = try JSONSerialization.data(withJSONObject: ["MGET"] + keys.prefix(10))
        let merged = harness.request("POST", "/", body: Array(mget)).text
        for key in keys.prefix(10) { #expect(merged.contains("v-\(key)")) }
        let batch = try JSONSerialization.data(withJSONObject: keys.suffix(12).map { ["GET", $0] })
        let replies = harness.request("POST", "/pipeline", body: Array(batch)).text
        for key in keys.suffix(12) { #expect(replies.contains("v-\(key)")) }
        #expect(harness.request("GET", "/pool/stats").text.contains(#""cluster""#))
    }
}
