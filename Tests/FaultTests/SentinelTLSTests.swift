import Foundation
import LoadTesting
import TestSupport
import Testing

/// `rediss+sentinel://`: three Sentinels, a master and a replica, all with TLS ports and
/// `tls-replication yes` (so Sentinels name TLS ports); the gateway reaches the Sentinels and the
/// masters over TLS only, and follows a `SENTINEL FAILOVER` to the new master over TLS.
@Suite(.serialized) struct SentinelTLSTests {
    @Test(.timeLimit(.minutes(2)))
    func aFailoverIsFollowedOverTLS() throws {
        let certificates = TestCertificates.shared
        let files = RedisServer.TLSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey, ca: certificates.ca)
        let cluster = try SentinelCluster(replicas: 1, tls: files)
        let oldMaster = cluster.nodes[0], replica = cluster.nodes[1]
        #expect(cluster.announcedMasterPort == oldMaster.tlsPort, "the Sentinels name the master's TLS port")
        let gateway = try GatewayProcess(redisURL: cluster.url, environment: ["GATEWAY_REDIS_TLS_CA_FILE": certificates.ca])
        let client = HTTPTestClient(port: gateway.port)
        let before = client.request("PUT", "/cache/sentinel-tls-before", text: "1")
        #expect(before?.status == 201, "\(before?.text ?? "no response") \(gateway.log.suffix(400))")
        #expect(oldMaster.command(["GET", "sentinel-tls-before"]) == "1")

        #expect(cluster.sentinels[0].command(["SENTINEL", "FAILOVER", SentinelCluster.masterName]) == "+OK")
        #expect(eventually(within: .seconds(30)) { cluster.announcedMasterPort == replica.tlsPort }, "the replica was promoted")
        #expect(
            eventually(within: .seconds(30)) {
                client.request("PUT", "/cache/sentinel-tls-after", text: "2")?.status == 201
                    && replica.command(["GET", "sentinel-tls-after"]) == "2"
            }, "writes reach the new master over TLS: \(gateway.log.suffix(600))")
        #expect(client.request("GET", "/get/sentinel-tls-before")?.text == #"{"result":"1"}"#)
    }
}
