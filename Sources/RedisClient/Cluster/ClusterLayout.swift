/// Which primary serves which slots, as a cluster node reports it: parsed from `CLUSTER SHARDS`
/// (Redis 7+), or from `CLUSTER SLOTS` where that is missing.
public struct ClusterLayout: Sendable, Equatable {
    /// A run of slots and the primary that serves it.
    public struct SlotRange: Sendable, Equatable {
        /// First and last slot, both included.
        public let slots: ClosedRange<Int>
        /// The primary serving them.
        public let primary: ServerAddress

        /// Slots `slots` served by `primary`.
        public init(slots: ClosedRange<Int>, primary: ServerAddress) {
            self.slots = slots
            self.primary = primary
        }
    }

    /// Every served run of slots; slots in none of them are not served.
    public var ranges: [SlotRange]

    /// A layout of `ranges`.
    public init(ranges: [SlotRange]) {
        self.ranges = ranges
    }

    /// The primaries, in address order, each once.
    public var primaries: [ServerAddress] {
        var seen: [ServerAddress] = []
        for range in ranges where !seen.contains(range.primary) { seen.append(range.primary) }
        return seen.sorted { ($0.host, $0.port) < ($1.host, $1.port) }
    }

    /// The number of slots some primary serves.
    public var coveredSlots: Int { ranges.reduce(0) { $0 + $1.slots.count } }

    /// Parses a `CLUSTER SHARDS` reply: per shard, `slots` (start/end pairs) and `nodes` (maps with
    /// `ip`/`endpoint`, `port`, `role`, `health`). `fallbackHost` stands in for an empty or `?` endpoint.
    public init(shards reply: RedisValue, fallbackHost: String) throws(RedisError) {
        guard case .array(let shards) = reply else { throw Self.malformed("CLUSTER SHARDS", reply) }
        var ranges: [SlotRange] = []
        for shard in shards {
            let fields = (shard).mapFields
            guard case .array(let bounds)? = fields["slots"], case .array(let nodes)? = fields["nodes"] else {
                throw Self.malformed("CLUSTER SHARDS", shard)
            }
            let primary = nodes.lazy.map(\.mapFields).first { $0["role"]?.text == "master" }
            guard let primary, !bounds.isEmpty else { continue }
            guard let port = primary["port"]?.integer ?? primary["tls-port"]?.integer else {
                throw Self.malformed("CLUSTER SHARDS", shard)
            }
            let address = ServerAddress(host: Self.host(primary["endpoint"]?.text ?? primary["ip"]?.text, fallbackHost), port: Int(port))
            var index = 0
            while index + 1 < bounds.count {
                guard let start = bounds[index].integer, let end = bounds[index + 1].integer, start <= end else {
                    throw Self.malformed("CLUSTER SHARDS", shard)
                }
                ranges.append(SlotRange(slots: Int(start)...Int(end), primary: address))
                index += 2
            }
        }
        self.init(ranges: ranges)
    }

    /// Parses a `CLUSTER SLOTS` reply: `[start, end, [host, port, id…], replicas…]` per range.
    public init(slots reply: RedisValue, fallbackHost: String) throws(RedisError) {
        guard case .array(let entries) = reply else { throw Self.malformed("CLUSTER SLOTS", reply) }
        var ranges: [SlotRange] = []
        for entry in entries {
            guard case .array(let parts) = entry, parts.count >= 3, let start = parts[0].integer, let end = parts[1].integer,
                case .array(let node) = parts[2], node.count >= 2, let port = node[1].integer
            else { throw Self.malformed("CLUSTER SLOTS", entry) }
            let address = ServerAddress(host: Self.host(node[0].text, fallbackHost), port: Int(port))
            ranges.append(SlotRange(slots: Int(start)...Int(end), primary: address))
        }
        self.init(ranges: ranges)
    }

    private static func host(_ reported: String?, _ fallback: String) -> String {
        guard let reported, !reported.isEmpty, reported != "?" else { return fallback }
        return reported
    }

    private static func malformed(_ command: String, _ value: RedisValue) -> RedisError {
        RedisError(.protocolError, "unexpected \(command) reply: \(value)")
    }
}
