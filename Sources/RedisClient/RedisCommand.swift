/// One Redis command as binary-safe arguments (name first), sent with hiredis' Argv form.
public struct RedisCommand: Sendable, Equatable {
    /// The arguments, the command name first; each one may hold any bytes.
    public var arguments: [[UInt8]]

    /// A command from raw arguments.
    public init(arguments: [[UInt8]]) {
        precondition(!arguments.isEmpty, "a command needs a name")
        self.arguments = arguments
    }

    /// A command from a name and textual arguments, e.g. `RedisCommand("EXPIRE", "k", "10")`.
    public init(_ name: String, _ arguments: String...) {
        self.init(arguments: [Array(name.utf8)] + arguments.map { Array($0.utf8) })
    }

    /// A command from a name, textual arguments, and then raw byte arguments.
    public init(_ name: String, _ arguments: [String], bytes: [[UInt8]] = []) {
        self.init(arguments: [Array(name.utf8)] + arguments.map { Array($0.utf8) } + bytes)
    }

    /// The command name as text (for logs and policy checks).
    public var name: String {
        String(decoding: arguments[0], as: UTF8.self)
    }
}
