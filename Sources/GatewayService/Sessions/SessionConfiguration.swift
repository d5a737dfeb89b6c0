/// The session-cache service: where the origin database is and how long things live.
public struct SessionConfiguration: Sendable, Equatable {
    /// SQLite file of the origin database (created and seeded on first start).
    public var databasePath = "data/users.sqlite"
    /// Demo users seeded into an empty database.
    public var seedUsers = 1000
    /// Session lifetime, refreshed on every use (sliding).
    public var sessionTTLSeconds = 1800
    /// How long a user's data stays cached.
    public var userCacheTTLSeconds = 3600
    /// How long the absence of a user stays cached (negative caching).
    public var negativeCacheTTLSeconds = 30
    /// Add `Secure` to the session cookie (behind HTTPS).
    public var secureCookie = false
    /// How long concurrent requests wait for the one database read of the same user.
    public var singleFlightTimeout: Duration = .seconds(2)
    /// Keys the example keeps in Redis (sessions, cached user data, login counters) all start with
    /// this, and the cache and command APIs refuse any key or argument that does.
    public var reservedKeyPrefix = "__gateway:"
    /// The secret that seals sessions and cached user data (32 bytes or more); nil: a random one
    /// made at start (sessions then end with the process, and gateways sharing a Redis disagree).
    public var secret: [UInt8]?
    /// PBKDF2 rounds for the seeded users' passwords (tests and benchmarks use fewer).
    public var passwordRounds = 210_000
    /// Login attempts allowed per client address, and per user, in any window of `loginWindow`.
    public var loginLimitPerAddress = 10
    public var loginLimitPerUser = 5
    /// The sliding window the login limits count in.
    public var loginWindow: Duration = .seconds(60)

    /// The defaults: data/users.sqlite with 1000 users, 30 min sessions, 1 h cache, 30 s negative
    /// cache, keys under `__gateway:`, 10 logins a minute per address and 5 per user.
    public init() {}
}
