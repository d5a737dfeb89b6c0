import Foundation
import GRDB
import Testing
import UserDatabase

@Suite struct UserStoreTests {
    func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("users-\(UUID().uuidString)/users.sqlite").path
    }

    @Test func seedsAnEmptyDatabaseOnce() throws {
        let file = path()
        let store = try UserStore(path: file, seedUsers: 25)
        #expect(try store.count() == 25)
        let user = try #require(try store.user(id: 25))
        #expect(user.name == "User 25" && user.email == "user25@example.com" && !user.createdAt.isEmpty)
        #expect(try UserStore(path: file, seedUsers: 100).count() == 25, "an existing database is not reseeded")
    }

    @Test func updatesDeletesAndCountsReads() throws {
        let store = try UserStore(path: path(), seedUsers: 3)
        #expect(try store.update(id: 2, name: "Ada", email: nil)?.name == "Ada")
        #expect(try store.user(id: 2)?.email == "user2@example.com")
        #expect(try store.update(id: 99, name: "x", email: nil) == nil)
        #expect(try store.delete(id: 3))
        #expect(try store.user(id: 3) == nil)
        #expect(store.reads == 2)
    }

    @Test func seededUsersHaveTheDemoPasswordAndOthersFail() throws {
        let store = try UserStore(path: path(), seedUsers: 3, passwordRounds: 1000)
        #expect(try store.checkPassword(id: 2, password: UserStore.demoPassword))
        #expect(try !store.checkPassword(id: 2, password: "demo-password "))
        #expect(try !store.checkPassword(id: 2, password: ""))
        #expect(try !store.checkPassword(id: 99, password: UserStore.demoPassword), "an unknown user never logs in")
        #expect(try store.setPassword(id: 2, password: "another", rounds: 1000))
        #expect(try store.checkPassword(id: 2, password: "another") && !store.checkPassword(id: 2, password: UserStore.demoPassword))
        #expect(try store.checkPassword(id: 1, password: UserStore.demoPassword), "one user's new password leaves the others'")
        #expect(try !store.setPassword(id: 99, password: "x", rounds: 1000))
    }

    @Test func theHashIsSaltedAndKeepsItsCost() throws {
        let one = PasswordHash.make("secret", rounds: 1000)
        let two = PasswordHash.make("secret", rounds: 1000)
        #expect(one.encoded != two.encoded, "a fresh salt each time")
        #expect(one.matches("secret") && !one.matches("Secret"))
        let read = try #require(PasswordHash(encoded: one.encoded))
        #expect(read == one && read.rounds == 1000 && read.matches("secret"))
        #expect(one.encoded.hasPrefix("pbkdf2-sha256$1000$"))
        #expect(PasswordHash(encoded: "md5$1$x$y") == nil && PasswordHash(encoded: "pbkdf2-sha256$0$AA==$AA==") == nil)
        #expect(PasswordHash.defaultRounds >= 210_000)
    }

    /// A database written before passwords existed: the column is added and its users get the
    /// demo password, so an upgrade keeps the example working.
    @Test func aDatabaseFromBeforePasswordsGetsTheColumnAndTheDemoPassword() throws {
        let file = path()
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: file)
        try old.write { db in
            try db.execute(
                sql: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, created_at TEXT NOT NULL)")
            try db.execute(sql: "INSERT INTO users VALUES (1, 'Old', 'old@example.com', '2026-01-01T00:00:00Z')")
        }
        try old.close()
        let store = try UserStore(path: file, seedUsers: 10, passwordRounds: 1000)
        #expect(try store.count() == 1)
        #expect(try store.checkPassword(id: 1, password: UserStore.demoPassword))
    }
}
