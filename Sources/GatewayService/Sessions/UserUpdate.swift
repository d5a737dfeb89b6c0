import Foundation

/// The body of `PUT /api/users/{id}`: `{"name": "...", "email": "..."}`, at least one of them, each
/// a string. Anything else — `null`, a number, an unknown member such as a misspelt `emial` — is a
/// 400, so a typo never passes for a successful update.
struct UserUpdate: Equatable {
    let name: String?
    let email: String?

    init(parsing body: [UInt8]) throws(GatewayError) {
        let usage = #"body must be JSON {"name": "...", "email": "..."} with at least one of them, each a string"#
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any], !object.isEmpty else {
            throw .badRequest(usage)
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "name" && $0 != "email" }) {
            throw .badRequest("\(usage); '\(unknown)' is not one of them")
        }
        func text(_ member: String) throws(GatewayError) -> String? {
            guard let value = object[member] else { return nil }
            guard let string = value as? String else { throw .badRequest("\(usage); '\(member)' is not a string") }
            return string
        }
        name = try text("name")
        email = try text("email")
    }
}
