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

    /// Opens (creating if needed) the database at `path`; on first start with an empty file it
    /// creates the schema and seeds `seedUsers` demo users.
    public init(path: String, seedUsers: Int) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        pool = try DatabasePool(path: path)
        try pool.write { db in
            try db.create(table: User.databaseTableName, ifNotExists: true) { table in
                table.primaryKey("id", .integer)
                table.column("name", .text).notNull()
                table.column("email", .text).notNull()
                table.column("created_at", .text).notNull()
            }
            guard try User.fetchCount(db) == 0, seedUsers > 0 else { return }
            let now = ISO8601DateFormatter().string(from: Date())
            for id in 1...Int64(seedUsers) {
                try User(id: id, name: "User \(id)", email: "user\(id)@example.com", createdAt: now).insert(db)
            }
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
