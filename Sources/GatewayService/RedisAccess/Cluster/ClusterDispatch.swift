import CoreUtilities
import Foundation
import RedisClient

/// Runs requests on a cluster: plans them (`ClusterPlan`), sends one pipeline per node, follows
/// redirects, and merges the replies back in order.
///
/// - `MOVED`: the slot is updated at once, the command re-sent to the named node, and a refresh asked for.
/// - `ASK`: `ASKING` and the command, on one connection of the named node.
/// - `TRYAGAIN` and `CLUSTERDOWN` (the command did not run): re-sent after 50, 100, 200 ms; then 503.
///   Inside a transaction nothing is re-sent: 503.
/// - A node that cannot be reached fails the request (503 / 504 as for a single Redis) and asks for
///   a refresh, so the next request finds a promoted replica.
/// Each node's pipeline goes through the caller's `send`: the single-node rules (safe re-sends, replica waits).
///
/// Threading: stateless; called from many threads.
struct ClusterDispatch: Sendable {
    let topology: ClusterTopology

    /// Sends commands as one pipeline on one of a node's pooled connections.
    typealias Send = (ClusterNode, [RedisCommand]) throws(GatewayError) -> [RedisValue]

    /// The most rounds of redirects and re-sends one request goes through.
    private static let maxRounds = 4

    /// The replies to `commands`, one per command, in order.
    func pipeline(_ commands: [RedisCommand], send: Send) throws(GatewayError) -> [RedisValue] {
        guard let keySpecs = topology.keySpecs else { throw Self.unknownLayout }
        if commands.count >= 2, commands[0].name.uppercased() == "MULTI" {
            return try transaction(commands, keySpecs: keySpecs, send: send)
        }
        let primaries = topology.primaries
        let plan = try ClusterPlan(commands, keySpecs: keySpecs, primaryCount: primaries.count)
        return try plan.merged(try run(plan.parts, primaries: primaries, send: send))
    }

    /// `MULTI … EXEC` on the node of its one slot (400 before sending when the keys span slots).
    private func transaction(_ commands: [RedisCommand], keySpecs: CommandKeySpecs, send: Send) throws(GatewayError) -> [RedisValue] {
        let slot = try ClusterPlan.commonSlot(of: commands.dropFirst().dropLast(), keySpecs: keySpecs)
        var node = try resolve(slot.map { .slot($0) } ?? .anyPrimary(Int.random(in: 0..<1024)), primaries: topology.primaries)
        var moved = false
        while true {
            let replies = try sendCounted(node, commands, send)
            // Queued commands are checked for redirection as they are queued: EXEC then aborts, nothing ran.
            guard let refusal = replies.dropFirst().dropLast().compactMap(\.errorMessage).first(where: Self.isClusterRefusal) else {
                return replies
            }
            if !moved, let redirect = ClusterRedirect(refusal), redirect.kind == .moved {
                let address = redirect.address(from: node)
                topology.moved(slot: redirect.slot, to: address)
                node = topology.node(at: address)
                moved = true
                continue
            }
            throw .redis(
                RedisError(.io, "the cluster refused the transaction (\(refusal)); nothing ran, retry", mayHaveReachedRedis: false))
        }
    }

    /// Sends `parts` grouped by node, following redirects; their replies in order.
    private func run(_ parts: [ClusterPlan.Part], primaries: [ClusterNode], send: Send) throws(GatewayError) -> [RedisValue] {
        var replies = [RedisValue](repeating: .null, count: parts.count)
        var pending: [(part: Int, node: ClusterNode, asking: Bool)] = []
        for (index, part) in parts.enumerated() { pending.append((index, try resolve(part.target, primaries: primaries), false)) }
        var round = 0
        var refused: String?
        while !pending.isEmpty {
            round += 1
            let groups = Self.grouped(pending)
            for (group, got) in zip(groups, try sendGroups(groups, parts: parts, send: send)) {
                var next = 0
                for item in group.items {
                    next += item.asking ? 1 : 0
                    replies[item.part] = got[next]
                    next += 1
                }
            }
            let sent = pending
            pending = []
            refused = nil
            var backOff = false
            for item in sent {
                guard let message = replies[item.part].errorMessage, Self.isClusterRefusal(message) else { continue }
                guard round < Self.maxRounds else {
                    refused = message
                    continue
                }
                if let redirect = ClusterRedirect(message) {
                    let address = redirect.address(from: item.node)
                    if redirect.kind == .moved { topology.moved(slot: redirect.slot, to: address) }
                    pending.append((item.part, topology.node(at: address), redirect.kind == .ask))
                } else {
                    backOff = true
                    topology.refreshSoon(message)
                    pending.append((item.part, try resolve(parts[item.part].target, primaries: topology.primaries), false))
                }
            }
            if backOff { Thread.sleep(forTimeInterval: 0.05 * Double(1 << (round - 1))) }
        }
        if let refused, !refused.hasPrefix("MOVED"), !refused.hasPrefix("ASK") {
            throw .redis(RedisError(.io, "the cluster cannot serve the request now: \(refused)", mayHaveReachedRedis: false))
        }
        return replies
    }

    /// Each group's commands (with `ASKING` before the redirected ones) sent to its node; the replies per group.
    private func sendGroups(
        _ groups: [(node: ClusterNode, items: [(part: Int, node: ClusterNode, asking: Bool)])], parts: [ClusterPlan.Part], send: Send
    ) throws(GatewayError) -> [[RedisValue]] {
        let commands = groups.map { group in
            group.items.flatMap { item in item.asking ? [Self.asking, parts[item.part].command] : [parts[item.part].command] }
        }
        // One node after the other: sending to all at once (a thread each) was measured slower on
        // every workload (Benchmarks/HISTORY.md, "Redis Cluster").
        var replies: [[RedisValue]] = []
        for (group, share) in zip(groups, commands) { replies.append(try sendCounted(group.node, share, send)) }
        return replies
    }

    /// `send`, asking for a refresh when the node cannot be reached (a failover may have begun).
    private func sendCounted(_ node: ClusterNode, _ commands: [RedisCommand], _ send: Send) throws(GatewayError) -> [RedisValue] {
        do {
            return try send(node, commands)
        } catch {
            topology.refreshSoon("\(node.address): \(error)")
            throw error
        }
    }

    private func resolve(_ target: ClusterPlan.Target, primaries: [ClusterNode]) throws(GatewayError) -> ClusterNode {
        switch target {
        case .slot(let slot):
            guard let node = topology.node(forSlot: slot) else {
                topology.refreshSoon("slot \(slot) unserved")
                throw .redis(RedisError(.connectFailed, "no primary serves slot \(slot) (CLUSTERDOWN?)", mayHaveReachedRedis: false))
            }
            return node
        case .primary(let index):
            guard index < primaries.count else { throw Self.unknownLayout }
            return primaries[index]
        case .anyPrimary(let spread):
            guard !primaries.isEmpty else { throw Self.unknownLayout }
            return primaries[spread % primaries.count]
        }
    }

    /// Items grouped by node, in the order each node first appears; each group keeps its items' order.
    private static func grouped(_ items: [(part: Int, node: ClusterNode, asking: Bool)]) -> [(
        node: ClusterNode, items: [(part: Int, node: ClusterNode, asking: Bool)]
    )] {
        var groups: [(node: ClusterNode, items: [(part: Int, node: ClusterNode, asking: Bool)])] = []
        for item in items {
            if let index = groups.firstIndex(where: { $0.node.address == item.node.address }) {
                groups[index].items.append(item)
            } else {
                groups.append((item.node, [item]))
            }
        }
        return groups
    }

    /// The node that serves every key of `commands` when they are independent commands whose keys
    /// all hash to one slot (what may share a pipelined round trip); nil for anything else.
    func singleNode(for commands: [RedisCommand]) -> ClusterNode? {
        guard let keySpecs = topology.keySpecs, commands.first.map({ $0.name.uppercased() != "MULTI" }) ?? false,
            let plan = try? ClusterPlan(commands, keySpecs: keySpecs, primaryCount: 1), plan.parts.count == commands.count,
            case .slot(let slot) = plan.parts[0].target, plan.parts.allSatisfy({ $0.target == .slot(slot) })
        else { return nil }
        return topology.node(forSlot: slot)
    }

    /// A reply saying the command did not run here: redirected, or the cluster cannot serve it now.
    static func isClusterRefusal(_ message: String) -> Bool {
        message.hasPrefix("MOVED ") || message.hasPrefix("ASK ") || message.hasPrefix("TRYAGAIN") || message.hasPrefix("CLUSTERDOWN")
    }

    private static let asking = RedisCommand("ASKING")
    private static let unknownLayout = GatewayError.redis(
        RedisError(.connectFailed, "the cluster layout is not known yet (no seed node answered)", mayHaveReachedRedis: false))
}

extension ClusterRedirect {
    /// The target, with the replying node's host where the reply left the host out (`MOVED 1 :7001`).
    fileprivate func address(from node: ClusterNode) -> ServerAddress {
        address.host.isEmpty ? ServerAddress(host: node.address.host, port: address.port) : address
    }
}
