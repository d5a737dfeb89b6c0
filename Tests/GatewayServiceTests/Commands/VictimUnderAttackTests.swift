import ConnectionPool
import Foundation
import GatewayService
import Synchronization
import TestSupport
import Testing

/// While one caller throws the review's attacks at the gateway, another reads and writes its own
/// keys through the same small pool, and must never see a wrong database, a `QUEUED`, a monitor
/// line, debugger text, or a lost write (each write is checked in Redis itself, on database 0).
@Suite struct VictimUnderAttackTests {
    static let attacks: [String] = {
        var attacks: [String] = []
        // NUL-suffixed names: some land in the real command's hash bucket on Redis 7.0.
        for suffix in 0..<40 {
            for name in ["SELECT", "MULTI", "MONITOR", "CLIENT"] {
                attacks.append(#"["\#(name)\u0000\#(suffix)","5"]"#)
            }
        }
        attacks += [
            #"["MULTI"]"#, #"["multi"]"#, #"["mUlTi\u0001"]"#, #"[" MULTI"]"#, #"["EXEC"]"#, #"["MONITOR"]"#, #"["SELECT","5"]"#,
            #"["SCRIPT","DEBUG","YES"]"#, #"["SCRIPT","DEBUG","SYNC"]"#, #"["CLIENT","REPLY","OFF"]"#, #"["CLIENT","SETNAME","evil"]"#,
            #"["CLIENT","PAUSE","5000"]"#, #"["READONLY"]"#, #"["SUBSCRIBE","x"]"#, #"["RESET"]"#, #"["HELLO","3"]"#, #"["AUTH","x"]"#,
            #"["WATCH","victim:0"]"#, #"["FLUSHALL"]"#, #"["CONFIG","SET","maxmemory","1"]"#, #"["SWAPDB","0","5"]"#,
            #"["SRANDMEMBER","attack:set","-3000000"]"#,
            // A script's SELECT stays inside the script: it writes database 5, never the victim's connection.
            #"["EVAL","redis.call('SELECT', 5) return redis.call('SET', 'attack:db5', 'x')","0"]"#,
        ]
        return attacks
    }()

    static let batches: [String] = [
        #"[["SET","attack:k","v"],["MULTI"]]"#, #"[["XREAD","BLOCK","900","STREAMS","s","$"],["XREAD","BLOCK","900","STREAMS","s","$"]]"#,
        #"[["XREAD","BLOCK","100","BLOCK","0","STREAMS","s","$"]]"#,
    ]

    @Test(.timeLimit(.minutes(1)))
    func aVictimsReadsAndWritesStayItsOwnWhileAnotherCallerAttacks() throws {
        let redis = RedisServer.shared
        let harness = try GatewayHarness { $0.pool.maxConnections = 2 }  // attacker and victim share connections
        redis.command(["SADD", "attack:set", "a"])
        let stop = Atomic<Bool>(false)
        let attacksSent = Atomic<Int>(0)
        let attacker = TestThread {
            var index = 0
            while !stop.load(ordering: .relaxed) {
                let attacks = Self.attacks
                _ = harness.request("POST", "/", text: attacks[index % attacks.count])
                if index % 7 == 0 { _ = harness.request("POST", "/pipeline", text: Self.batches[index % Self.batches.count]) }
                index += 1
                attacksSent.add(1, ordering: .relaxed)
            }
        }
        attacker.start()
        let prefix = uniqueKey("victim")
        var anomalies: [String] = []
        var operations = 0
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(3)
        while clock.now < deadline, operations < 3000 {
            let key = "\(prefix):\(operations)"
            let value = "v\(operations)"
            let write = harness.request("POST", "/", text: #"["SET","\#(key)","\#(value)"]"#)
            let read = harness.request("POST", "/", text: #"["GET","\#(key)"]"#)
            if write.text != #"{"result":"OK"}"# { anomalies.append("SET \(key): \(write.status) \(write.text.prefix(120))") }
            if read.text != #"{"result":"\#(value)"}"# { anomalies.append("GET \(key): \(read.status) \(read.text.prefix(120))") }
            if operations % 25 == 0, redis.command(["GET", key]) != value { anomalies.append("\(key) is not in database 0") }
            operations += 1
        }
        stop.store(true, ordering: .relaxed)
        attacker.join()
        #expect(anomalies.isEmpty, "\(anomalies.count) anomalies, first: \(anomalies.prefix(5))")
        #expect(
            operations >= 100 && attacksSent.load(ordering: .relaxed) >= 100,
            "victim \(operations), attacks \(attacksSent.load(ordering: .relaxed))")
        #expect(redis.command(["EXISTS", "attack:k"]) == ":0", "a batch with a refused command ran nothing")
        redis.command(["DEL", "attack:set"])
    }
}
