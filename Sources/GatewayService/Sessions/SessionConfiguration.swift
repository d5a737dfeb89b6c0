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

    /// The defaults: data/users.sqlite with 1000 users, 30 min sessions, 1 h cache, 30 s negative cache.
    public init() {}
}
