import RedisClient

/// How a batch of independent commands runs on a cluster: each command becomes one or more parts,
/// each bound for a slot's primary or for a given primary, and the parts' replies are merged back
/// into one reply per command, in the request's order. Pure: no I/O.
///
/// - A command whose keys share one slot (or that has no keys) is one part. `PUBLISH` goes to the
///   primary of its channel's slot, so one channel's messages keep their order.
/// - `MGET`, `MSET`, `DEL`, `UNLINK`, `EXISTS` and `TOUCH` across slots are split by slot and merged
///   (values in key order; counts summed; `OK` when every part said `OK`).
/// - `DBSIZE`, `KEYS`, `SCAN`, `FLUSHDB`, `FLUSHALL`, `SCRIPT LOAD|FLUSH|EXISTS` and `PING` fan out
///   to every primary (sum; concatenation; a cursor naming the node; all `OK`; the same reply;
///   1 only where every node has the script; the same reply).
/// - Any other command across slots is refused before anything is sent.
struct ClusterPlan {
    /// Where a part goes.
    enum Target: Equatable {
        /// The primary serving the slot.
        case slot(Int)
        /// The primary at this index in the address-ordered list of primaries.
        case primary(Int)
        /// Any primary (no keys); the number spreads such commands over the primaries.
        case anyPrimary(Int)
    }

    /// One command as sent to one node.
    struct Part {
        var command: RedisCommand
        var target: Target
    }

    /// How one command's reply is made from its parts' replies.
    enum Merge {
        /// The one part's reply.
        case single
        /// `MGET` split by slot: for each original key, its part and its index there.
        case values([(part: Int, index: Int)])
        /// Integers added (`DEL`, `EXISTS`, `DBSIZE`, …).
        case sum
        /// `OK` when every part answered `OK`.
        case allOK
        /// The first part's reply when every part answered alike (`SCRIPT LOAD`, `PING`).
        case sameReply
        /// Arrays concatenated (`KEYS`).
        case concatenation
        /// `SCRIPT EXISTS`: 1 where every part answered 1.
        case everywhere
        /// `SCAN` on the primary at `primary` of `primaries`: its cursor is folded with the node.
        case scan(primary: Int, primaries: Int)

    }

    /// All parts, in order; command `i`'s parts are `entries[i].parts`.
    private(set) var parts: [Part] = []
    /// Per command: its parts and how to merge them.
    private(set) var entries: [(parts: Range<Int>, merge: Merge)] = []

    /// The plan for `commands` on a cluster of `primaryCount` primaries; throws 400 for a command
    /// that spans slots and cannot be split, or whose keys cannot be found.
    init(_ commands: [RedisCommand], keySpecs: CommandKeySpecs, primaryCount: Int) throws(GatewayError) {
        // Keyless commands go to any primary: spread from a random one.
        let first = Int.random(in: 0..<max(1, primaryCount))
        for (index, command) in commands.enumerated() {
            let start = parts.count
            let merge = try add(command, keySpecs: keySpecs, primaryCount: primaryCount, spread: first + index)
            entries.append((start..<parts.count, merge))
        }
    }

    /// The slot all keys of `commands` share, nil when they have no keys; 400 when they span slots
    /// (a transaction runs on one node).
    static func commonSlot(of commands: some Sequence<RedisCommand>, keySpecs: CommandKeySpecs) throws(GatewayError) -> Int? {
        var common: Int?
        for command in commands {
            for slot in try slots(of: command, keySpecs: keySpecs).map(\.slot) {
                if let common, common != slot {
                    throw .badRequest(
                        "CROSSSLOT Keys in request don't hash to the same slot: a transaction on a cluster must keep all its keys "
                            + "in one slot (use {hash tags})")
                }
                common = slot
            }
        }
        return common
    }

    /// The replies, one per command, from `replies`, one per part.
    func merged(_ replies: [RedisValue]) throws(GatewayError) -> [RedisValue] {
        var merged: [RedisValue] = []
        merged.reserveCapacity(entries.count)
        for entry in entries {
            let own = Array(replies[entry.parts])
            // A part's error reply is the command's reply (`MGET` split in two: either half's error).
            if let failed = own.first(where: { $0.errorMessage != nil }) {
                merged.append(failed)
                continue
            }
            merged.append(try Self.merge(own, entry.merge))
        }
        return merged
    }

    // MARK: Planning

    private mutating func add(_ command: RedisCommand, keySpecs: CommandKeySpecs, primaryCount: Int, spread: Int) throws(GatewayError)
        -> Merge
    {
        let name = CommandTable.qualifiedName(command.arguments)
        if let merge = Self.fanOut[name] {
            guard primaryCount > 0 else { throw Self.noPrimaries }
            if case .scan = merge { return try addScan(command, primaryCount: primaryCount) }
            for primary in 0..<primaryCount { parts.append(Part(command: command, target: .primary(primary))) }
            return merge
        }
        if name == "PUBLISH", command.arguments.count > 1 {
            // A channel is no key, but sending its messages to one node keeps them in order: two
            // publishes in a row on different nodes may reach subscribers in either order.
            parts.append(Part(command: command, target: .slot(HashSlot.of(command.arguments[1]))))
            return .single
        }
        let keys = try Self.slots(of: command, keySpecs: keySpecs)
        guard let first = keys.first else {
            parts.append(Part(command: command, target: .anyPrimary(spread)))
            return .single
        }
        if keys.allSatisfy({ $0.slot == first.slot }) {
            parts.append(Part(command: command, target: .slot(first.slot)))
            return .single
        }
        guard let split = Self.splits[name] else {
            throw .badRequest(
                "CROSSSLOT Keys in request don't hash to the same slot: \(name) on a cluster needs all its keys in one slot "
                    + "(the gateway splits only MGET, MSET, DEL, UNLINK, EXISTS and TOUCH; use {hash tags})")
        }
        return addSplit(command, keys: keys, merge: split)
    }

    /// One part per slot, keys (and, for MSET, their values) in their original order.
    private mutating func addSplit(_ command: RedisCommand, keys: [(position: Int, slot: Int)], merge: Merge) -> Merge {
        let base = parts.count
        var partOfSlot: [Int: Int] = [:]
        var locations: [(part: Int, index: Int)] = []
        let perKey = command.name.uppercased() == "MSET" ? 2 : 1
        for key in keys {
            let part: Int
            if let known = partOfSlot[key.slot] {
                part = known
            } else {
                part = parts.count
                partOfSlot[key.slot] = part
                parts.append(Part(command: RedisCommand(arguments: [command.arguments[0]]), target: .slot(key.slot)))
            }
            locations.append((part - base, parts[part].command.arguments.count - 1))
            parts[part].command.arguments += command.arguments[key.position..<min(key.position + perKey, command.arguments.count)]
        }
        if case .values = merge { return .values(locations) }
        return merge
    }

    private mutating func addScan(_ command: RedisCommand, primaryCount: Int) throws(GatewayError) -> Merge {
        guard command.arguments.count >= 2, let cursor = ClusterScanCursor(command.arguments[1]) else {
            throw .badRequest("ERR invalid cursor")
        }
        guard cursor.primary < primaryCount else {
            throw .badRequest("ERR invalid cursor: it names primary \(cursor.primary) of \(primaryCount) (the cluster changed?)")
        }
        var arguments = command.arguments
        arguments[1] = Array(cursor.nodeCursor.utf8)
        parts.append(Part(command: RedisCommand(arguments: arguments), target: .primary(cursor.primary)))
        return .scan(primary: cursor.primary, primaries: primaryCount)
    }

    /// The slot of each key of `command` with the key's argument position.
    private static func slots(of command: RedisCommand, keySpecs: CommandKeySpecs) throws(GatewayError) -> [(position: Int, slot: Int)] {
        switch keySpecs.keyPositions(in: command.arguments) {
        case .keys(let positions):
            return positions.map { ($0, HashSlot.of(command.arguments[$0])) }
        case .unknownCommand:
            // Redis answers "unknown command" itself, from any node.
            return []
        case .unknownPositions:
            throw .badRequest("ERR the gateway cannot tell which keys \(command.name.uppercased()) uses, so cannot route it on a cluster")
        }
    }

    // MARK: Merging

    private static func merge(_ replies: [RedisValue], _ merge: Merge) throws(GatewayError) -> RedisValue {
        switch merge {
        case .single:
            return replies[0]
        case .values(let locations):
            var values: [RedisValue] = []
            for location in locations {
                guard case .array(let items) = replies[location.part], location.index < items.count else { throw malformed }
                values.append(items[location.index])
            }
            return .array(values)
        case .sum:
            var total: Int64 = 0
            for reply in replies {
                guard let value = reply.integer else { throw malformed }
                total += value
            }
            return .integer(total)
        case .allOK:
            return .status("OK")
        case .sameReply:
            guard replies.allSatisfy({ $0 == replies[0] }) else {
                throw .redis(RedisError(.protocolError, "the cluster's primaries answered differently: \(replies)"))
            }
            return replies[0]
        case .concatenation:
            var items: [RedisValue] = []
            for reply in replies {
                guard case .array(let part) = reply else { throw malformed }
                items += part
            }
            return .array(items)
        case .everywhere:
            guard case .array(let first) = replies[0] else { throw malformed }
            var all = first.map { $0.integer == 1 }
            for reply in replies.dropFirst() {
                guard case .array(let items) = reply, items.count == all.count else { throw malformed }
                for (index, item) in items.enumerated() where item.integer != 1 { all[index] = false }
            }
            return .array(all.map { .integer($0 ? 1 : 0) })
        case .scan(let primary, let primaries):
            guard case .array(let items) = replies[0], items.count == 2, let nodeCursor = items[0].text else { throw malformed }
            let next: ClusterScanCursor? =
                nodeCursor != "0"
                ? ClusterScanCursor(primary: primary, nodeCursor: nodeCursor)
                : primary + 1 < primaries ? ClusterScanCursor(primary: primary + 1, nodeCursor: "0") : nil
            return .array([.bulk(Array((next?.text ?? "0").utf8)), items[1]])
        }
    }

    private static let malformed = GatewayError.redis(RedisError(.protocolError, "unexpected reply from a cluster node"))
    private static let noPrimaries = GatewayError.redis(
        RedisError(.connectFailed, "the cluster layout is not known yet", mayHaveReachedRedis: false))

    /// Commands run on every primary, and how their replies merge.
    private static let fanOut: [String: Merge] = [
        "DBSIZE": .sum, "KEYS": .concatenation, "SCAN": .scan(primary: 0, primaries: 0), "FLUSHDB": .allOK, "FLUSHALL": .allOK,
        "SCRIPT LOAD": .sameReply, "SCRIPT FLUSH": .allOK, "SCRIPT EXISTS": .everywhere, "PING": .sameReply,
    ]

    /// Multi-key commands split by slot, and how their replies merge.
    private static let splits: [String: Merge] = [
        "MGET": .values([]), "MSET": .allOK, "DEL": .sum, "UNLINK": .sum, "EXISTS": .sum, "TOUCH": .sum,
    ]
}
