import RedisClient
import TestSupport
import Testing

@testable import GatewayService

/// Writes confirmed by replicas (`WAIT`) before they are acknowledged.
@Suite struct ReplicaAcknowledgementTests {
    func command(_ words: String...) -> RedisCommand {
        RedisCommand(arguments: words.map { Array($0.utf8) })
    }

    @Test func aWaitFollowsOnlyRequestsThatWrite() {
        var acknowledgement = ReplicaAcknowledgement()
        #expect(acknowledgement.wait(after: [command("SET", "k", "v")]) == nil, "off by default")
        acknowledgement.replicas = 2
        acknowledgement.timeout = .milliseconds(150)
        #expect(acknowledgement.wait(after: [command("GET", "k"), command("TTL", "k")]) == nil)
        #expect(acknowledgement.wait(after: [command("GET", "k"), command("INCR", "n")]) == command("WAIT", "2", "150"))
    }

    @Test func aWriteNoReplicaConfirmedIsA504AndReadsAreUnaffected() throws {
        let server = RedisServer()  // no replica at all
        let harness = try GatewayHarness(redisURL: server.url) {
            $0.replicaAcknowledgement.replicas = 1
            $0.replicaAcknowledgement.timeout = .milliseconds(50)
        }
        defer { harness.gateway.shutdown() }
        let key = uniqueKey("unconfirmed")
        let write = harness.request("PUT", "/cache/\(key)", text: "v")
        #expect(write.status == 504)
        #expect(write.text.contains("0 of 1 replicas confirmed"))
        #expect(server.command(["GET", key]) == "v", "the master has it; only the confirmation is missing")
        #expect(harness.request("GET", "/cache/\(key)").status == 200, "reads wait for no replica")
    }
}
