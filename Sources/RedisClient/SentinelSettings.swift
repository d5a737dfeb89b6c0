/// Where the Redis Sentinels are and which master to ask them for: the Sentinel form of `REDIS_URL`.
public struct SentinelSettings: Sendable, Equatable {
    /// The Sentinels, asked in order (the last one that answered first).
    public var addresses: [ServerAddress]
    /// The monitored master's name (`sentinel monitor NAME ...`).
    public var masterName: String
    /// ACL user for the Sentinels; nil for the default user.
    public var username: String?
    /// Password for the Sentinels (their own `requirepass`, separate from the data nodes'); nil for none.
    public var password: String?

    /// Sentinels at `addresses` watching `masterName`.
    public init(addresses: [ServerAddress], masterName: String, username: String? = nil, password: String? = nil) {
        self.addresses = addresses
        self.masterName = masterName
        self.username = username
        self.password = password
    }
}
