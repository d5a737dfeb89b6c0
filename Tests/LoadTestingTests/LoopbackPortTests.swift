import Foundation
import Testing

@testable import CoreUtilities

/// Ports for the servers tests and benchmarks start: never one the kernel may give an outgoing
/// connection, never the same one twice, always one that can be bound.
@Suite struct LoopbackPortTests {
    @Test func portsAreBelowTheEphemeralRangeDistinctAndBindable() throws {
        let ephemeralStart = LoopbackPort.ephemeralRangeStart()
        #expect(ephemeralStart > LoopbackPort.lowest)
        let ports = try (0..<64).map { _ in try #require(LoopbackPort.free()) }
        #expect(Set(ports).count == ports.count, "no port is handed out twice")
        #expect(ports.allSatisfy { $0 >= LoopbackPort.lowest && $0 < ephemeralStart })
        #expect(ports.allSatisfy(LoopbackPort.isFree))
    }

    @Test func aPortWithAListenerIsNotFree() throws {
        let port = try #require(LoopbackPort.free())
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        #expect(bound && listen(listener, 1) == 0)
        #expect(!LoopbackPort.isFree(port))
    }
}
