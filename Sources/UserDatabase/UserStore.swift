import Foundation
import GRDB
import Synchronization

/// The origin database: users in SQLite through GRDB (a connection pool in WAL mode: readers never
/// block each other or the writer). Knows nothing of Redis or HTTP.
///
/// Threading: every method may be called from any thread; GRDB serialises writes.
public final class UserStore: Sendable {
    private let pool: DatabasePool
    private let readCount = Atomic<Int>(0)
    /// What an unknown user's login is checked against, so that it costs what a known one does
    /// (no telling users apart by the time a refusal takes).
    private let decoy: PasswordHash

    /// The password every seeded demo user has (README): the example has no sign-up.
    public static let demoPassword = "demo-password"

    /// Opens (creating if needed) the database at `path`; on first start with an empty file it
    /// creates the schema and seeds `seedUsers` demo users, whose password is `demoPassword`, hashed
    /// with `passwordRounds` of PBKDF2. (The seeded users share one salted hash, since they share one
    /// documented password; `setPassword` gives a user a salt of their own.) A database from before
    /// passwords gets the column, and its users the demo password.
    public init(path: String, seedUsers: Int, passwordRounds: Int = PasswordHash.defaultRounds) throws {
        decoy = PasswordHash.decoy(rounds: passwordRounds)
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        pool = try DatabasePool(path: path)
        try pool.write { db in
            try db.create(table: User.databaseTableName, ifNotExists: true) { table in
                table.primaryKey("id", .integer)
                table.column("name", .text).notNull()
                table.column("email", .text).notNull()
                table.column("created_at", .text).notNull()
                table.column("password_hash", .text)
            }
            if try !db.columns(in: User.databaseTableName).contains(where: { $0.name == "password_hash" }) {
                try db.alter(table: User.databaseTableName) { $0.add(column: "password_hash", .text) }
            }
            if try User.fetchCount(db) == 0, seedUsers > 0 {
                let now = ISO8601DateFormatter().string(from: Date())
                for id in 1...Int64(seedUsers) {
                    try User(id: id, name: "User \(id)", email: "user\(id)@example.com", createdAt: now).insert(db)
                }
            }
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE password_hash IS NULL") ?? 0 > 0 {
                let demo = PasswordHash.make(Self.demoPassword, rounds: passwordRounds).encoded
                try db.execute(sql: "UPDATE users SET password_hash = ? WHERE password_hash IS NULL", arguments: [demo])
            }
        }
    }

    /// Whether `password` is user `id`'s; false for an unknown user, after the same work.
    public func checkPassword(id: Int64, password: String) throws -> Bool {
        let stored = try pool.read { db in
            try String.fetchOne(db, sql: "SELECT password_hash FROM users WHERE id = ?", arguments: [id])
        }
        guard let stored, let hash = PasswordHash(encoded: stored) else {
            _ = decoy.matches(password)
            return false
        }
        return hash.matches(password)
    }

    /// Gives user `id` the password `password` (its own salt); false when there is no such user.
    @discardableResult
    public func setPassword(id: Int64, password: String, rounds: Int = PasswordHash.defaultRounds) throws -> Bool {
        let encoded = PasswordHash.make(password, rounds: rounds).encoded
        return try pool.write { db in
            try db.execute(sql: "UPDATE users SET password_hash = ? WHERE id = ?", arguments: [encoded, id])
            return db.changesCount > 0
        }
    }

    /// The user with `id`, or nil. Counts as one database read.
    public func user(id: Int64) throws -> User? {
        readCount.add(1, ordering: .relaxed)
        return try pool.read { db in try User.fetchOne(db, key: id) }
    }

    /// Changes the name and/or email of user `id`; returns the updated user, nil when absent.
    public func update(id: Int64, name: String?, email: String?) throws -> User? {
        try pool.write { db in
            guard var user = try User.fetchOne(db, key: id) else { return nil }
            if let name { user.name = name }
            if let email { user.email = email }
            try user.update(db)
            return user
        }
    }

    /// Deletes user `id`; false when absent.
    @discardableResult
    public func delete(id: Int64) throws -> Bool {
        try pool.write { db in try User.deleteOne(db, key: id) }
    }

    /// Users in the database.
    public func count() throws -> Int {
        try pool.read { db in try User.fetchCount(db) }
    }

    /// Database reads made through `user(id:)` since start.
    public var reads: Int {
        readCount.load(ordering: .relaxed)
    }
}
