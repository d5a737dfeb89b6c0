import CoreUtilities
import Foundation
import Synchronization

/// One soak caller: a mixed workload on keys only it writes, every reply checked against what it
/// wrote. Cache GET/PUT, the command API, `/pipeline`, `/multi-exec`, the session example's
/// `/api/data` and `/publish`, in a deterministic random order.
///
/// A write that got no 2xx (503, 504, no answer) may or may not have reached Redis, and a paused
/// Redis may still run it later: its value joins the ones a later read may return, and stays one
/// for `ambiguityWindow`. Anything else a read returns is a wrong reply.
final class SoakWorker: @unchecked Sendable {
    /// The values a key may hold now.
    private struct Expectation {
        var values: Set<String>
        var lastAmbiguous: Double = -1e9
    }

    static let keysPerWorker = 16
    /// How long a write without an answer may still land (the gateway's deadlines plus a pause).
    static let ambiguityWindow = 30.0

    let index: Int
    private let runID: String
    private let client: BlockingHTTPClient
    private let tally: SoakTally
    private let channel: String
    private var keys: [Expectation] = []
    private var counter = 0
    private var sequence = 0
    private var random: SplitMix
    private var session = ""
    private let user: Int

    init(index: Int, run: String, target: LoadTarget, tally: SoakTally, channel: String, users: Int) {
        self.index = index
        self.runID = run
        self.client = BlockingHTTPClient(target: target)
        self.tally = tally
        self.channel = channel
        self.random = SplitMix(seed: 0x50A4 &+ UInt64(index))
        self.user = index % max(users, 1) + 1
    }

    /// Stores every key once and logs in, before the soak's clock starts counting faults.
    func prepare() throws(LoadTestError) {
        for key in 0..<Self.keysPerWorker {
            let value = nextValue(key)
            guard case .answered(let status, _, _) = client.exchange("PUT", "/cache/\(name(key))", body: Array(value.utf8)),
                (200..<300).contains(status)
            else { throw LoadTestError("storing the soak's keys failed") }
            keys.append(Expectation(values: [value]))
        }
        let login = Array(#"{"user_id":\#(user),"password":"demo-password"}"#.utf8)
        guard case .answered(200..<300, let headers, _) = client.exchange("POST", "/api/login", body: login),
            let cookie = headers.first(where: { $0.name == "set-cookie" })?.value, cookie.hasPrefix("sid=")
        else { throw LoadTestError("logging in user \(user) failed: the soak needs the session example (POST /api/login)") }
        session = String(cookie.dropFirst(4).prefix { $0 != ";" })
    }

    /// Runs requests until the tally says stop.
    func run() {
        while !tally.stopped.load(ordering: .relaxed) {
            let key = Int(random.next() % UInt64(Self.keysPerWorker))
            switch random.next() % 100 {
            case 0..<20: cachePut(key)
            case 20..<50: cacheGet(key)
            case 50..<60: commandSet(key)
            case 60..<70: commandGet(key)
            case 70..<80: pipeline(key)
            case 80..<90: multiExec(key)
            case 90..<95: apiData()
            default: publish()
            }
        }
    }

    // MARK: - The requests

    private func cachePut(_ key: Int) {
        let value = nextValue(key)
        let status = answer(client.exchange("PUT", "/cache/\(name(key))", body: Array(value.utf8)), "PUT /cache")
        wrote(value, to: key, succeeded: status.map { (200..<300).contains($0) } ?? false)
    }

    private func cacheGet(_ key: Int) {
        let outcome = client.exchange("GET", "/cache/\(name(key))", headers: "Accept: application/octet-stream\r\n")
        guard case .answered(200, _, let body) = outcome else { return _ = answer(outcome, "GET /cache") }
        _ = answer(outcome, "GET /cache")
        check(String(decoding: body, as: UTF8.self), key, "GET /cache")
    }

    private func commandSet(_ key: Int) {
        let value = nextValue(key)
        let outcome = client.exchange("POST", "/set/\(name(key))", body: Array(value.utf8))
        let status = answer(outcome, "POST /set")
        if case .answered(200, _, let body) = outcome, result(body) as? String != "OK" {
            tally.wrongReply("POST /set answered \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        wrote(value, to: key, succeeded: status == 200)
    }

    private func commandGet(_ key: Int) {
        let outcome = client.exchange("GET", "/get/\(name(key))")
        guard case .answered(200, _, let body) = outcome else { return _ = answer(outcome, "GET /get") }
        _ = answer(outcome, "GET /get")
        guard let value = result(body) as? String else {
            return tally.wrongReply("GET /get answered \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        check(value, key, "GET /get")
    }

    /// SET, GET and INCR in one batch: the GET must see the SET, the counter must only go up.
    private func pipeline(_ key: Int) {
        let value = nextValue(key)
        let body = #"[["SET","\#(name(key))","\#(value)"],["GET","\#(name(key))"],["INCR","\#(counterName)"]]"#
        let outcome = client.exchange("POST", "/pipeline", body: Array(body.utf8))
        let status = answer(outcome, "POST /pipeline")
        guard case .answered(200, _, let reply) = outcome else { return wrote(value, to: key, succeeded: false) }
        let results = (try? JSONSerialization.jsonObject(with: Data(reply))) as? [[String: Any]]
        guard let results, results.count == 3, results[0]["result"] as? String == "OK", results[1]["result"] as? String == value,
            let count = results[2]["result"] as? Int, count > counter
        else {
            wrote(value, to: key, succeeded: false)
            return tally.wrongReply("/pipeline answered \(String(decoding: reply.prefix(300), as: UTF8.self)) (counter was \(counter))")
        }
        counter = count
        wrote(value, to: key, succeeded: status == 200)
    }

    /// SET then GET in one transaction: the GET sees the SET.
    private func multiExec(_ key: Int) {
        let value = nextValue(key)
        let body = #"[["SET","\#(name(key))","\#(value)"],["GET","\#(name(key))"]]"#
        let outcome = client.exchange("POST", "/multi-exec", body: Array(body.utf8))
        let status = answer(outcome, "POST /multi-exec")
        guard case .answered(200, _, let reply) = outcome else { return wrote(value, to: key, succeeded: false) }
        let results = (try? JSONSerialization.jsonObject(with: Data(reply))) as? [[String: Any]]
        guard let results, results.count == 2, results[1]["result"] as? String == value else {
            wrote(value, to: key, succeeded: false)
            return tally.wrongReply("/multi-exec answered \(String(decoding: reply.prefix(300), as: UTF8.self))")
        }
        wrote(value, to: key, succeeded: status == 200)
    }

    /// The session example: the logged-in user's own record, never another's.
    private func apiData() {
        let outcome = client.exchange("GET", "/api/data", headers: "Cookie: sid=\(session)\r\n")
        _ = answer(outcome, "GET /api/data")
        guard case .answered(200, _, let body) = outcome else { return }
        let record = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        if record?["id"] as? Int != user {
            tally.wrongReply("/api/data for user \(user) answered \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
    }

    private func publish() {
        sequence += 1
        let outcome = client.exchange("POST", "/publish/\(channel)/w\(index)-\(sequence)")
        _ = answer(outcome, "POST /publish")
        if case .answered(200, _, let body) = outcome, !(result(body) is Int) {
            tally.wrongReply("/publish answered \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
    }

    // MARK: - Checking

    /// Records the outcome; the status (nil: no answer).
    private func answer(_ outcome: BlockingHTTPClient.Outcome, _ what: String) -> Int? {
        switch outcome {
        case .answered(let status, _, let body):
            tally.record(status: status, what: "\(what): \(status) \(String(decoding: body.prefix(160), as: UTF8.self))")
            return status
        case .failed(let reason):
            tally.record(status: 0, what: "\(what): \(reason)")
            return nil
        }
    }

    private func wrote(_ value: String, to key: Int, succeeded: Bool) {
        let now = tally.elapsed()
        if succeeded, now - keys[key].lastAmbiguous > Self.ambiguityWindow {
            keys[key].values = [value]
        } else {
            keys[key].values.insert(value)
            if !succeeded { keys[key].lastAmbiguous = now }
        }
    }

    private func check(_ value: String, _ key: Int, _ what: String) {
        guard !keys[key].values.contains(value) else { return }
        tally.wrongReply(
            "\(what) \(name(key)) answered '\(value.prefix(60))', expected one of \(keys[key].values.map { String($0.prefix(60)) })")
    }

    private func result(_ body: [UInt8]) -> Any? {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["result"]
    }

    private func name(_ key: Int) -> String { "soak:\(runID):w\(index):k\(key)" }
    private var counterName: String { "soak:\(runID):w\(index):counter" }

    /// A new value for `key`: names the worker, key and sequence, so a reply from another key or
    /// caller shows; mostly small, some of 2 KB and a few of 100 KB (large buffers must be given back).
    private func nextValue(_ key: Int) -> String {
        sequence += 1
        let size =
            switch random.next() % 100 {
            case 0: 100_000
            case 1..<10: 2_000
            default: 40
            }
        return "\(runID)-w\(index)-k\(key)-s\(sequence)-" + String(repeating: "x", count: size)
    }
}
