import CoreUtilities

/// Where each command keeps its keys, read from Redis itself (`COMMAND`: the key specifications of
/// Redis 7, or the first/last/step triple of older servers) rather than a hand-kept table.
/// `keyPositions(in:)` follows Redis' own `getKeysUsingKeySpecs`.
public struct CommandKeySpecs: Sendable {
    /// Where one run of keys starts.
    enum BeginSearch: Sendable, Equatable {
        /// At a fixed argument index.
        case index(Int)
        /// After a keyword, searched from `startFrom` (from the end when negative).
        case keyword(String, startFrom: Int)
    }

    /// How far a run of keys goes.
    enum FindKeys: Sendable, Equatable {
        /// To `lastKey` (relative to the start; negative: from the end, `limit` dividing the rest).
        case range(lastKey: Int, step: Int, limit: Int)
        /// A count at `countIndex` (relative), the first key at `firstKey` (relative).
        case keyCount(countIndex: Int, firstKey: Int, step: Int)
    }

    /// One key specification.
    struct Spec: Sendable, Equatable {
        let begin: BeginSearch
        let find: FindKeys
        let incomplete: Bool
    }

    /// A command's specifications; nil means one of them is of a kind that cannot be followed.
    private let specs: [String: [Spec]?]
    /// Commands with subcommands (`object`, `xinfo`, …): only their second argument names a `name|sub` entry.
    private let containers: Set<String>

    /// What the key positions of a command are.
    public enum Lookup: Sendable, Equatable {
        /// The argument indexes holding keys (none for a keyless command).
        case keys([Int])
        /// Redis does not know the command.
        case unknownCommand
        /// The command's keys cannot be found from its specification.
        case unknownPositions
    }

    /// Parses the reply to `COMMAND` (every command, subcommands as `name|sub`).
    public init(commandReply reply: RedisValue) throws(RedisError) {
        guard case .array(let entries) = reply else { throw RedisError(.protocolError, "unexpected COMMAND reply") }
        var specs: [String: [Spec]?] = [:]
        var containers: Set<String> = []
        func add(_ entry: RedisValue) {
            guard case .array(let fields) = entry, fields.count >= 6, let name = fields[0].text?.lowercased() else { return }
            specs[name] = Self.specs(of: fields)
            if fields.count > 9, case .array(let subcommands) = fields[9], !subcommands.isEmpty {
                containers.insert(name)
                for subcommand in subcommands { add(subcommand) }
            }
        }
        for entry in entries { add(entry) }
        self.specs = specs
        self.containers = containers
    }

    /// The argument indexes of `arguments`' keys (name first).
    public func keyPositions(in arguments: [[UInt8]]) -> Lookup {
        let name = ASCIICase.lowercased(String(decoding: arguments[0], as: UTF8.self))
        var found = specs[name]
        if arguments.count > 1, containers.contains(name),
            let sub = specs[name + "|" + ASCIICase.lowercased(String(decoding: arguments[1], as: UTF8.self))]
        {
            found = sub
        }
        guard let found else { return .unknownCommand }
        guard let found else { return .unknownPositions }
        var positions: [Int] = []
        for spec in found {
            guard let keys = Self.positions(spec, arguments) else { return .unknownPositions }
            positions += keys
        }
        return .keys(positions)
    }

    private static func positions(_ spec: Spec, _ arguments: [[UInt8]]) -> [Int]? {
        let count = arguments.count
        var first: Int
        switch spec.begin {
        case .index(let index):
            first = index
        case .keyword(let keyword, let startFrom):
            let wanted = Array(keyword.uppercased().utf8)
            let indexes = startFrom > 0 ? Array(startFrom..<max(startFrom, count)) : Array((0..<max(0, count + startFrom + 1)).reversed())
            guard let at = indexes.first(where: { arguments[$0].map(Self.upper) == wanted }) else { return [] }
            first = at + 1
        }
        let last: Int
        let step: Int
        switch spec.find {
        case .range(let lastKey, let keyStep, let limit):
            if lastKey >= 0 {
                last = first + lastKey
            } else if limit == 0 {
                last = count + lastKey
            } else {
                last = first + (count - first) / limit + lastKey
            }
            step = keyStep
        case .keyCount(let countIndex, let firstKey, let keyStep):
            guard first + countIndex < count, let keys = Int(String(decoding: arguments[first + countIndex], as: UTF8.self)),
                keys >= 0
            else { return nil }
            first += firstKey
            last = first + keys - 1
            step = keyStep
        }
        guard step > 0 else { return nil }
        var positions: [Int] = []
        var index = first
        while index <= last {
            if index >= count {
                // Too few arguments: Redis will refuse the command itself (arity), unless the spec
                // says its keys may be fewer.
                if spec.incomplete { break }
                return positions
            }
            positions.append(index)
            index += step
        }
        return positions
    }

    private static func upper(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 32 : byte
    }

    /// The specifications of one `COMMAND` entry: its key specs when it has them, else first/last/step.
    private static func specs(of fields: [RedisValue]) -> [Spec]? {
        if fields.count > 8, case .array(let keySpecs) = fields[8] {
            var specs: [Spec] = []
            for keySpec in keySpecs {
                guard let spec = spec(keySpec.mapFields) else { return nil }
                specs.append(spec)
            }
            return specs
        }
        guard let first = fields[3].integer, let last = fields[4].integer, let step = fields[5].integer else { return nil }
        if first == 0 { return [] }
        return [
            Spec(
                begin: .index(Int(first)), find: .range(lastKey: last < 0 ? Int(last) : Int(last - first), step: Int(step), limit: 0),
                incomplete: false)
        ]
    }

    private static func spec(_ fields: [String: RedisValue]) -> Spec? {
        let begin = (fields["begin_search"] ?? .null).mapFields
        let find = (fields["find_keys"] ?? .null).mapFields
        let beginSpec = (begin["spec"] ?? .null).mapFields
        let findSpec = (find["spec"] ?? .null).mapFields
        let flags: [String]
        if case .array(let values)? = fields["flags"] { flags = values.compactMap(\.text) } else { flags = [] }
        func number(_ map: [String: RedisValue], _ name: String) -> Int? { map[name]?.integer.map(Int.init) }
        let beginSearch: BeginSearch
        switch begin["type"]?.text {
        case "index":
            guard let index = number(beginSpec, "index") else { return nil }
            beginSearch = .index(index)
        case "keyword":
            guard let keyword = beginSpec["keyword"]?.text, let start = number(beginSpec, "startfrom") else { return nil }
            beginSearch = .keyword(keyword, startFrom: start)
        default:
            return nil
        }
        let findKeys: FindKeys
        switch find["type"]?.text {
        case "range":
            guard let last = number(findSpec, "lastkey"), let step = number(findSpec, "keystep"), let limit = number(findSpec, "limit")
            else { return nil }
            findKeys = .range(lastKey: last, step: step, limit: limit)
        case "keynum":
            guard let index = number(findSpec, "keynumidx"), let first = number(findSpec, "firstkey"),
                let step = number(findSpec, "keystep")
            else { return nil }
            findKeys = .keyCount(countIndex: index, firstKey: first, step: step)
        default:
            return nil
        }
        return Spec(begin: beginSearch, find: findKeys, incomplete: flags.contains { $0.lowercased() == "incomplete" })
    }

}
