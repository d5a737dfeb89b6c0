import CoreUtilities

/// Where Redis is and how to log in: `redis://[[user]:password@]host[:port][/db]`, or through
/// Sentinels: `redis+sentinel://[[user]:password@]host1[:port],host2[:port]/master-name[/db]`
/// with `?sentinel_password=...&sentinel_username=...` for the Sentinels' own credentials (the ones
/// before `@` are the data nodes'), or a Redis Cluster through seed nodes:
/// `redis+cluster://[[user]:password@]host1[:port],host2[:port]/` (database 0 only). Each scheme
/// has a TLS form, `rediss://`, `rediss+sentinel://` (Sentinels and data nodes both over TLS) and
/// `rediss+cluster://`.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    /// Host name or address (IPv6 without brackets).
    public var host: String = "127.0.0.1"
    /// TCP port.
    public var port: Int = 6379
    /// ACL user name; nil for the default user.
    public var username: String?
    /// Password; nil for no AUTH.
    public var password: String?
    /// Database number for SELECT.
    public var database: Int = 0
    /// The Sentinels to ask for the master (then `host` and `port` are unused until resolved).
    public var sentinel: SentinelSettings?
    /// Seed nodes of a Redis Cluster (then `host` and `port` name the first seed); nil otherwise.
    public var cluster: [ServerAddress]?
    /// Every connection (data nodes, Sentinels, cluster nodes) uses TLS: a `rediss` scheme.
    public var usesTLS = false

    /// `redis://127.0.0.1:6379/0`.
    public init() {}

    /// Parses `text`; throws a message naming what is wrong.
    public init(parsing text: String) throws(RedisURLError) {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else {
            throw RedisURLError("missing scheme in '\(text)' (expected redis://host:port/db)")
        }
        var scheme = text[..<colon].lowercased()
        if scheme.hasPrefix("rediss") {
            usesTLS = true
            scheme.remove(at: scheme.index(scheme.startIndex, offsetBy: 5))
        }
        guard scheme == "redis" || scheme == "redis+sentinel" || scheme == "redis+cluster" else {
            throw RedisURLError(
                "unsupported scheme '\(text[..<colon])' (redis://, redis+sentinel://, redis+cluster:// or their TLS forms rediss://, "
                    + "rediss+sentinel://, rediss+cluster://)")
        }
        var rest = text[text.index(colon, offsetBy: 3)...]
        var query: Substring = ""
        if let mark = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            if rest[mark] == "?" { query = rest[rest.index(after: mark)...].prefix { $0 != "#" } }
            rest = rest[..<mark]
        }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.decode(userInfo[..<colon])
                username = user.isEmpty ? nil : user
                password = try Self.decode(userInfo[userInfo.index(after: colon)...])
            } else if !userInfo.isEmpty {
                // redis://secret@host is how redis-py and others spell a password without a user.
                password = try Self.decode(userInfo)
            }
        }
        if scheme == "redis+sentinel" {
            sentinel = try Self.sentinelSettings(hosts: authority, path: path, query: query)
            database = sentinel.map { _ in Self.databaseAfterMasterName(path) } ?? 0
            guard database >= 0 else { throw RedisURLError("invalid database in '\(path)'") }
            return
        }
        if scheme == "redis+cluster" {
            let seeds = try Self.addresses(authority, defaultPort: 6379, role: "cluster")
            guard path.isEmpty || path == "0" else { throw RedisURLError("a cluster has only database 0, got '\(path)'") }
            guard query.isEmpty else { throw RedisURLError("unknown URL parameters '\(query)' for a cluster") }
            cluster = seeds
            host = seeds[0].host
            port = seeds[0].port
            return
        }
        var hostPart = authority
        var portPart: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw RedisURLError("unclosed [ in host") }
            let afterClose = hostPart.index(after: close)
            if afterClose < hostPart.endIndex {
                guard hostPart[afterClose] == ":" else { throw RedisURLError("unexpected text after ]") }
                portPart = hostPart[hostPart.index(after: afterClose)...]
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        if !hostPart.isEmpty { host = String(hostPart) }
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else {
                throw RedisURLError("invalid port '\(portPart)'")
            }
            port = value
        }
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else { throw RedisURLError("invalid database '\(path)'") }
            database = db
        }
    }

    /// The URL with the passwords masked, safe to log.
    public var description: String {
        var auth = ""
        if username != nil || password != nil {
            auth = (username ?? "") + (password != nil ? ":****" : "") + "@"
        }
        if let sentinel {
            let hosts = sentinel.addresses.map(\.description).joined(separator: ",")
            let secret = sentinel.password != nil ? "?sentinel_password=****" : ""
            return "\(schemeName)+sentinel://\(auth)\(hosts)/\(sentinel.masterName)/\(database)\(secret)"
        }
        if let cluster {
            return "\(schemeName)+cluster://\(auth)\(cluster.map(\.description).joined(separator: ","))/"
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(schemeName)://\(auth)\(shownHost):\(port)/\(database)"
    }

    private var schemeName: String { usesTLS ? "rediss" : "redis" }

    /// `host:port/db` (or `sentinel:master-name/db`), the pool name used in metrics labels.
    public var poolName: String {
        if let sentinel { return "sentinel:\(sentinel.masterName)/\(database)" }
        if cluster != nil { return "cluster" }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(shownHost):\(port)/\(database)"
    }

    /// `h1[:p1],h2[:p2]` (default port 26379), `master-name[/db]`, and the Sentinels' credentials
    /// from the query.
    private static func sentinelSettings(hosts: Substring, path: Substring, query: Substring) throws(RedisURLError) -> SentinelSettings {
        let addresses = try addresses(hosts, defaultPort: 26379, role: "Sentinel")
        let name = path.split(separator: "/", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !name.isEmpty else { throw RedisURLError("missing master name (redis+sentinel://host:port/master-name/db)") }
        var settings = SentinelSettings(addresses: addresses, masterName: try decode(Substring(name)))
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count == 2 ? try decode(parts[1]) : ""
            switch parts[0] {
            case "sentinel_password": settings.password = value
            case "sentinel_username": settings.username = value.isEmpty ? nil : value
            default: throw RedisURLError("unknown URL parameter '\(parts[0])' (sentinel_password, sentinel_username)")
            }
        }
        return settings
    }

    /// `h1[:p1],h2[:p2]`, each without a port on `defaultPort`; `role` names them in errors.
    private static func addresses(_ hosts: Substring, defaultPort: Int, role: String) throws(RedisURLError) -> [ServerAddress] {
        var addresses: [ServerAddress] = []
        for item in hosts.split(separator: ",", omittingEmptySubsequences: false) {
            var host = item
            var port = defaultPort
            if let colon = item.lastIndex(of: ":"), !item.hasSuffix("]") {
                guard let value = Int(item[item.index(after: colon)...]), (1...65535).contains(value) else {
                    throw RedisURLError("invalid \(role) port in '\(item)'")
                }
                port = value
                host = item[..<colon]
            }
            if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            guard !host.isEmpty else { throw RedisURLError("empty \(role) host in '\(hosts)'") }
            addresses.append(.init(host: String(host), port: port))
        }
        return addresses
    }

    private static func databaseAfterMasterName(_ path: Substring) -> Int {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count > 1, !parts[1].isEmpty else { return 0 }
        return Int(parts[1]) ?? -1
    }

    private static func decode(_ text: Substring) throws(RedisURLError) -> String {
        guard let bytes = PercentDecoding.decode(text) else { throw RedisURLError("bad percent-escape in credentials") }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A `REDIS_URL` that cannot be parsed.
public struct RedisURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the URL.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
