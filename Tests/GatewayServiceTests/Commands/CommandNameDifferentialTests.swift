import ConnectionPool
import CoreUtilities
import Foundation
import RedisClient
import TestSupport
import Testing

@testable import GatewayService

/// The command policy against a real Redis, as a differential fuzzer: seeded random variations of
/// command names (NUL and control bytes, case, suffixes, odd bytes, subcommands) go through the
/// gateway, and Redis' own `INFO commandstats` says what ran. For every command the policy admits,
/// exactly the command it believed it admitted ran; for every one it refuses, nothing ran.
///
/// `GATEWAY_FUZZ_ITERATIONS` (default 300, a few seconds) and `GATEWAY_FUZZ_SEED` (fixed default, so
/// CI is repeatable) run it longer locally.
@Suite(.serialized) struct CommandNameDifferentialTests {
    /// Bases: harmless commands, and the ones the review got past the policy with a NUL suffix.
    static let bases: [[String]] = [
        ["GET", "fuzz:k"], ["SET", "fuzz:k", "v"], ["PING"], ["ECHO", "x"], ["EXISTS", "fuzz:k"], ["TYPE", "fuzz:k"],
        ["SELECT", "5"], ["MULTI"], ["MONITOR"], ["FLUSHALL"], ["AUTH", "x"], ["HELLO", "3"], ["RESET"], ["SUBSCRIBE", "c"],
        ["CONFIG", "GET", "maxmemory"], ["DEBUG", "SLEEP", "0"], ["SWAPDB", "0", "1"], ["CLIENT", "ID"], ["CLIENT", "SETNAME", "x"],
        ["CLIENT", "REPLY", "OFF"], ["SCRIPT", "EXISTS", "abc"], ["SCRIPT", "DEBUG", "YES"], ["OBJECT", "ENCODING", "fuzz:k"],
        ["XINFO", "HELP"], ["PUBSUB", "NUMPAT"], ["READONLY"], ["WATCH", "fuzz:k"],
    ]
    static let oddBytes: [UInt8] = [0, 1, 9, 10, 13, 0x20, 0x7C, 0x7F, 0x80, 0xC3, 0xFF, UInt8(ascii: "a"), UInt8(ascii: "_")]

    /// One variation of `word`: as it is, re-cased, with odd bytes inserted, with a NUL and a suffix
    /// (the review's attack), or truncated.
    static func vary(_ word: String, _ random: inout SplitMix) -> [UInt8] {
        var bytes = Array(word.utf8)
        switch Int.random(in: 0..<7, using: &random) {
        case 0:
            return bytes
        case 1:
            return bytes.map { Bool.random(using: &random) ? ($0 | 0x20) : $0 }
        case 2, 3:
            return bytes + [0] + Array(String(Int.random(in: 0..<10_000, using: &random)).utf8)
        case 4:
            bytes.insert(oddBytes.randomElement(using: &random)!, at: Int.random(in: 0...bytes.count, using: &random))
            return bytes
        case 5:
            return Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
        default:
            return (0..<Int.random(in: 1..<8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
    }

    /// Every `cmdstat_…` entry's calls, rejected and failed calls added up.
    static func commandStats(_ redis: RedisServer) -> [String: Int] {
        var stats: [String: Int] = [:]
        for line in (redis.command(["INFO", "commandstats"]) ?? "").split(whereSeparator: \.isNewline) {
            guard line.hasPrefix("cmdstat_"), let colon = line.firstIndex(of: ":") else { continue }
            var total = 0
            for field in line[line.index(after: colon)...].split(separator: ",") {
                let pair = field.split(separator: "=")
                if pair.count == 2, ["calls", "rejected_calls", "failed_calls"].contains(String(pair[0])) { total += Int(pair[1]) ?? 0 }
            }
            stats[String(line[line.index(line.startIndex, offsetBy: 8)..<colon])] = total
        }
        return stats
    }

    /// Path form: every byte of a segment percent-encoded, so any byte reaches the policy.
    static func path(_ command: [[UInt8]]) -> String {
        "/" + command.map { $0.map { "%" + String(format: "%02X", $0) }.joined() }.joined(separator: "/")
    }

    @Test(.timeLimit(.minutes(3)))
    func whatThePolicyAdmitsIsExactlyWhatRunsAndWhatItRefusesNeverRuns() throws {
        let redis = RedisServer()  // its own server: commandstats count every client's commands
        defer { redis.stop() }
        let harness = try GatewayHarness(redisURL: redis.url) { configuration in
            configuration.pool.minIdle = 0
            configuration.pool.healthCheckInterval = .seconds(3600)  // no PINGs of its own in the counts
        }
        // The first command reads the server's command list (COMMAND) and opens a connection.
        #expect(harness.request("POST", "/", text: #"["PING"]"#).status == 200)
        let environment = ProcessInfo.processInfo.environment
        let iterations = Int(environment["GATEWAY_FUZZ_ITERATIONS"] ?? "") ?? 300
        var random = SplitMix(seed: UInt64(environment["GATEWAY_FUZZ_SEED"] ?? "") ?? 0x5EED_2026)
        // Commands the gateway or this test itself may send beside the fuzzed one.
        let own: Set<String> = ["info", "client|setname", "command"]
        let names = try serverNames(redis)
        var admitted = 0
        var refused = 0
        for iteration in 0..<iterations {
            let base = Self.bases.randomElement(using: &random)!
            var command = [Self.vary(base[0], &random)]
            for (index, word) in base.dropFirst().enumerated() {
                command.append(index == 0 && Bool.random(using: &random) ? Self.vary(word, &random) : Array(word.utf8))
            }
            let before = Self.commandStats(redis)
            let response = harness.request("POST", Self.path(command))
            let after = Self.commandStats(redis)
            let ran = Set(after.keys.filter { after[$0, default: 0] != before[$0, default: 0] }).subtracting(own)
            let shown = command.map { String(decoding: $0, as: UTF8.self).debugDescription }.joined(separator: " ")
            // Refused before sending: a 4xx of the gateway's own (an empty name never reaches the policy).
            let policyRefused = [400, 403, 405].contains(response.status) && !response.text.contains("wrong number of arguments")
            let review = CommandPolicy().review(command, role: .full, names: names)
            if review.violation != nil {
                refused += 1
                #expect(ran.isEmpty, "#\(iteration) \(shown) was refused (\(response.text)) but Redis ran \(ran)")
                #expect(
                    policyRefused, "#\(iteration) \(shown): the policy refuses it, the gateway answered \(response.status) \(response.text)"
                )
            } else {
                admitted += 1
                let believed = Set([CommandTable.qualifiedName(command).lowercased().replacingOccurrences(of: " ", with: "|")])
                #expect(
                    ran.isSubset(of: believed), "#\(iteration) \(shown) was admitted as \(believed) but Redis ran \(ran): \(response.text)")
            }
        }
        #expect(admitted > 0 && refused > 0, "the fuzzer exercised both sides: \(admitted) admitted, \(refused) refused")
        // Nothing it sent left a poisoned connection behind: a plain read is a plain read.
        _ = redis.command(["SET", "fuzz:victim", "mine"])
        for _ in 0..<8 { #expect(harness.request("GET", "/get/fuzz:victim").text == #"{"result":"mine"}"#) }
    }

    /// The server's own names, read the way the gateway reads them.
    func serverNames(_ redis: RedisServer) throws -> ServerCommandNames {
        var options = RedisConnectionOptions()
        options.url = try RedisURL(parsing: redis.url)
        let connection = try RedisConnection.connect(options: options)
        defer { connection.close() }
        return try ServerCommandNames(commandReply: connection.send(RedisCommand("COMMAND")))
    }
}
