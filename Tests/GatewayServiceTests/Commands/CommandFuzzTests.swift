import ConnectionPool
import CoreUtilities
import GatewayService
import TestSupport
import Testing

/// Throws thousands of generated malformed bodies at the batch endpoints: every answer must be a
/// 2xx/4xx JSON body, and afterwards the pool is whole and the server still answers.
@Suite struct CommandFuzzTests {
    @Test(.timeLimit(.minutes(2)))
    func malformedBatchesNeverCrashOrLeak() throws {
        let server = RedisServer()
        let harness = try GatewayHarness(redisURL: server.url) { $0.pool.maxConnections = 2 }
        var generator = SplitMix(seed: 0x5EED)
        let seeds = [
            #"[["SET","fuzz:a","1"],["INCR","fuzz:a"],["GET","fuzz:a"]]"#,
            #"[["HSET","fuzz:h","f","v\n\u00e9"],["HGETALL","fuzz:h"],["ZADD","fuzz:z",1.5,"m"]]"#,
            #"[["MSET","fuzz:b",-12e3,"fuzz:c","x"],["MGET","fuzz:b","fuzz:c"]]"#,
        ]
        let alphabet = Array(#"[]{}",:\ 0123456789.eE+-truefalsnul\u"#.utf8) + [0x00, 0xFF, 0x0A]
        var statuses: [Int: Int] = [:]
        for round in 0..<3000 {
            var body = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(body.count + 1))
                switch generator.next() % 3 {
                case 0 where position < body.count: body.remove(at: position)
                case 1: body.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                default: if position < body.count { body[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))] }
                }
            }
            let path = round % 2 == 0 ? "/pipeline" : "/multi-exec"
            let response = harness.request("POST", path, body: body)
            statuses[response.status, default: 0] += 1
            #expect(
                [200, 400, 403, 413].contains(response.status),
                "\(path) answered \(response.status) to \(String(decoding: body, as: UTF8.self))")
            #expect(response.text.hasPrefix("[") || response.text.hasPrefix(#"{"error":"#))
        }
        #expect((statuses[400] ?? 0) > 1000, "most mutations are malformed: \(statuses)")
        let stats = harness.gateway.pool!.statistics
        #expect(stats.inUse == 0 && stats.open <= 2 && stats.waiting == 0)
        #expect(harness.request("GET", "/healthz").status == 200)
        #expect(harness.request("POST", "/", text: #"["PING"]"#).text == #"{"result":"PONG"}"#)
    }
}
