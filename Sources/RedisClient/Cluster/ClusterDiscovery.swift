/// Reads a cluster's layout from its nodes: asks each candidate in turn, on a short-lived connection
/// of its own, for `CLUSTER SHARDS` (`CLUSTER SLOTS` on servers without it), and the first answer
/// that serves any slot wins. Optionally reads the command key specifications (`COMMAND`) too.
public enum ClusterDiscovery {
    /// What one successful discovery found.
    public struct Found: Sendable {
        /// The slots and their primaries.
        public let layout: ClusterLayout
        /// The node that answered.
        public let answeredBy: ServerAddress
        /// The key specifications, when asked for.
        public let keySpecs: CommandKeySpecs?
    }

    /// The layout as the first reachable candidate reports it; throws the last failure when none answers.
    public static func discover(
        asking candidates: [ServerAddress], options: RedisConnectionOptions, readKeySpecs: Bool
    ) throws(RedisError) -> Found {
        var lastError = RedisError(.connectFailed, "no cluster node to ask")
        for address in candidates {
            do {
                let connection = try RedisConnection.connect(options: options.at(address))
                defer { connection.close() }
                var layout = try ClusterLayout(shards: try shards(connection), fallbackHost: address.host)
                if layout.ranges.isEmpty {
                    layout = try ClusterLayout(
                        slots: try connection.pipeline([RedisCommand("CLUSTER", "SLOTS")], budget: .unbounded)[0],
                        fallbackHost: address.host)
                }
                guard layout.coveredSlots > 0 else {
                    lastError = RedisError(.protocolError, "\(address) serves no slots (is it in a cluster?)")
                    continue
                }
                let specs =
                    readKeySpecs
                    ? try CommandKeySpecs(commandReply: try connection.pipeline([RedisCommand("COMMAND")], budget: .unbounded)[0]) : nil
                return Found(layout: layout, answeredBy: address, keySpecs: specs)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// `CLUSTER SHARDS`, or an empty array when the server does not know it (then `CLUSTER SLOTS`
    /// is asked); an error reply such as "cluster support disabled" throws.
    private static func shards(_ connection: RedisConnection) throws(RedisError) -> RedisValue {
        let reply = try connection.pipeline([RedisCommand("CLUSTER", "SHARDS")], budget: .unbounded)[0]
        if let message = reply.errorMessage {
            if message.lowercased().contains("unknown subcommand") { return .array([]) }
            throw RedisError(.handshakeFailed, "CLUSTER SHARDS: \(message)")
        }
        return reply
    }
}

extension RedisConnectionOptions {
    /// These options aimed at one node (`address`) instead of the URL's host or cluster seeds.
    public func at(_ address: ServerAddress) -> RedisConnectionOptions {
        var options = self
        options.url.cluster = nil
        options.url.sentinel = nil
        options.url.host = address.host
        options.url.port = address.port
        return options
    }
}
