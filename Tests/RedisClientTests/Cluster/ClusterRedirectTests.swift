import RedisClient
import Testing

@Suite struct ClusterRedirectTests {
    @Test func readsMovedAndAsk() {
        let moved = ClusterRedirect("MOVED 3999 127.0.0.1:6381")
        #expect(moved?.kind == .moved && moved?.slot == 3999 && moved?.address == .init(host: "127.0.0.1", port: 6381))
        let ask = ClusterRedirect("ASK 1 [::1]:7000")
        #expect(ask?.kind == .ask && ask?.address == .init(host: "::1", port: 7000))
        #expect(ClusterRedirect("MOVED 1 :7000")?.address.host == "", "the replying node's host, filled in by the caller")
        for other in ["ERR x", "MOVED", "MOVED 99999 h:1", "MOVED 1 h", "TRYAGAIN Multiple keys request during rehashing of slot"] {
            #expect(ClusterRedirect(other) == nil, "\(other)")
        }
    }
}
