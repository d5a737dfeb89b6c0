import HTTPServer
import Testing

@testable import GatewayService

/// What one client address counts as for the login limit.
@Suite struct LoginLimiterTests {
    @Test func anIPv4AddressCountsAloneAndAnIPv6OneByItsSlash64() {
        let v4 = ClientAddress(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 0, 2, 7])
        #expect(v4.description == "192.0.2.7" && LoginLimiter.counted(v4) == "192.0.2.7")
        let one = ClientAddress(bytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1] + [0, 0, 0, 0, 0, 0, 0, 1])
        let sameNetwork = ClientAddress(bytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1] + [0xde, 0xad, 0, 0, 0, 0, 0, 2])
        #expect(one.description == "2001:db8:0:1:0:0:0:1")
        #expect(LoginLimiter.counted(one) == LoginLimiter.counted(sameNetwork), "one /64 is one client")
        #expect(LoginLimiter.counted(one) == "20010db800000001::/64")
    }
}
