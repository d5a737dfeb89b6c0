import Foundation
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
}
