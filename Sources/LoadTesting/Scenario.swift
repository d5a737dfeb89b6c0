import CoreUtilities

/// What the load client asks of the gateway. It re-declares the gateway's wire format itself (it
/// speaks only HTTP, a black box), so a contract change shows up as failures here.
public enum Scenario: Sendable, Equatable {
    /// `GET /cache/{key}` over `keys` pre-stored keys.
    case cacheGet(keys: Int)
    /// `PUT /cache/{key}` of `valueBytes` bytes over `keys` keys.
    case cacheSet(keys: Int)
    /// GETs with probability `readRatio`, PUTs otherwise.
    case mixed(keys: Int, readRatio: Double)
    /// `POST /pipeline` with `batchSize` commands (half SET, half GET).
    case pipeline(batchSize: Int)
    /// `GET /healthz`: the client's own ceiling (no Redis involved), to compare with wrk.
    case healthz
    /// `GET /api/data` as `users` logged-in users (the session-cache service: `POST /api/login`).
    case sessionData(users: Int)

    /// The scenario's name on the command line.
    public var name: String {
        switch self {
        case .cacheGet: "cache-get"
        case .cacheSet: "cache-set"
        case .mixed: "mixed"
        case .pipeline: "pipeline"
        case .sessionData: "session-data"
        case .healthz: "healthz"
        }
    }
}

/// Builds the raw HTTP/1.1 requests of a scenario.
struct RequestFactory: Sendable {
    let scenario: Scenario
    let target: LoadTarget
    let token: String?
    let value: [UInt8]
    let keyPrefix: String
    /// Session ids per user, filled by the session scenario's setup.
    var sessions: [String] = []

    init(scenario: Scenario, target: LoadTarget, token: String?, valueBytes: Int, keyPrefix: String) {
        self.scenario = scenario
        self.target = target
        self.token = token
        self.value = Array(repeating: UInt8(ascii: "v"), count: valueBytes)
        self.keyPrefix = keyPrefix
    }

    /// The request number `sequence` (a deterministic mix per sequence number and `random`).
    func request(_ sequence: Int, random: inout SplitMix) -> [UInt8] {
        switch scenario {
        case .cacheGet(let keys):
            return build("GET", "/cache/\(keyPrefix)\(Int(random.next() % UInt64(keys)))")
        case .cacheSet(let keys):
            return build("PUT", "/cache/\(keyPrefix)\(Int(random.next() % UInt64(keys)))", body: value)
        case .mixed(let keys, let readRatio):
            let key = "/cache/\(keyPrefix)\(Int(random.next() % UInt64(keys)))"
            let isRead = Double(random.next() % 1_000_000) / 1_000_000 < readRatio
            return isRead ? build("GET", key) : build("PUT", key, body: value)
        case .pipeline(let batchSize):
            var body = "["
            for index in 0..<batchSize {
                let key = "\(keyPrefix)\(index / 2)"
                if index > 0 { body += "," }
                body +=
                    index % 2 == 0
                    ? #"["SET","\#(key)","\#(String(decoding: value, as: UTF8.self))"]"# : #"["GET","\#(key)"]"#
            }
            body += "]"
            return build("POST", "/pipeline", body: Array(body.utf8), contentType: "application/json")
        case .healthz:
            return build("GET", "/healthz")
        case .sessionData(let users):
            let session = sessions.isEmpty ? "" : sessions[Int(random.next() % UInt64(min(users, sessions.count)))]
            return build("GET", "/api/data", extraHeaders: "Cookie: sid=\(session)\r\n")
        }
    }

    /// One raw request with Host, auth and Content-Length.
    func build(_ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil, extraHeaders: String = "")
        -> [UInt8]
    {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(target.address):\(target.port)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        if method == "PUT" || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += extraHeaders + "\r\n"
        return Array(head.utf8) + body
    }
}
