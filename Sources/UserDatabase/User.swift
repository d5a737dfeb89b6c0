import GRDB

/// One user of the origin database (the example's "real database").
public struct User: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// Primary key.
    public var id: Int64
    public var name: String
    public var email: String
    /// Creation time, ISO 8601.
    public var createdAt: String

    public static let databaseTableName = "users"

    enum CodingKeys: String, CodingKey {
        case id, name, email
        case createdAt = "created_at"
    }

    /// A user from its fields.
    public init(id: Int64, name: String, email: String, createdAt: String) {
        self.id = id
        self.name = name
        self.email = email
        self.createdAt = createdAt
    }
}
