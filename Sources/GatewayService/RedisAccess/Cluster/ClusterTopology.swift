import ConnectionPool
import CoreUtilities
import Foundation
import Logging
import RedisClient
import Synchronization

/// Which primary serves each slot, one pool per node, and the keeping of that map: read at start,
/// then refreshed on a timer, after a MOVED, and after a connection failure — always on one
/// background thread, so at most one refresh runs and no request waits for one. A MOVED updates
/// its slot at once.
///
/// Lifecycle: `start()` after creation, `stop()` at shutdown (shuts every pool).
/// Threading: all members may be used from any thread.
final class ClusterTopology: Sendable {
    private struct State {
        /// Node index (into `nodes`) per slot; -1 for a slot no primary serves.
        var owners = [Int](repeating: -1, count: HashSlot.count)
        /// Every node ever used; indexes are stable.
        var nodes: [ClusterNode] = []
        /// Indexes of the current primaries, in address order (the order a fan-out `SCAN` visits).
        var primaries: [Int] = []
        var keySpecs: CommandKeySpecs?
        var refreshes = 0
        var lastRefreshError: String?
        var stopped = false
    }

    private let state = Mutex(State())
    private let seeds: [ServerAddress]
    private let options: RedisConnectionOptions
    private let refreshInterval: Duration
    private let makeNode: @Sendable (ServerAddress) -> ClusterNode
    private let logger: Logger
    private let wake = DispatchSemaphore(value: 0)
    private let onChange: @Sendable () -> Void

    /// A topology found through `seeds`, connecting with `options`, refreshed every `refreshInterval`;
    /// `makeNode` builds a node's pool; `onChange` runs when a refresh finds the layout changed.
    init(
        seeds: [ServerAddress], options: RedisConnectionOptions, refreshInterval: Duration, logger: Logger,
        makeNode: @escaping @Sendable (ServerAddress) -> ClusterNode, onChange: @escaping @Sendable () -> Void = {}
    ) {
        self.seeds = seeds
        self.options = options
        self.refreshInterval = refreshInterval
        self.logger = logger
        self.makeNode = makeNode
        self.onChange = onChange
    }

    /// Reads the layout once now (a failure is logged; requests answer 503 until a later refresh
    /// succeeds), then starts the refresh thread.
    func start() {
        refresh()
        PoolThread.start(name: "cluster-topology") { [self] in
            while !state.withLock({ $0.stopped }) {
                _ = wake.wait(timeout: .now() + refreshInterval.secondsDouble)
                // Wake-ups that arrived while refreshing are served by this one refresh.
                while wake.wait(timeout: .now()) == .success {}
                if state.withLock({ $0.stopped }) { return }
                refresh()
            }
        }
    }

    /// Stops refreshing, shuts every node's pool and ends its shared-lease I/O.
    func stop() {
        let nodes = state.withLock { state in
            state.stopped = true
            return state.nodes
        }
        wake.signal()
        for node in nodes {
            node.pool.shutDown()
            node.sharedIO?.stop()
        }
    }

    /// Asks for a refresh soon, on the refresh thread (`reason` is logged at debug).
    func refreshSoon(_ reason: String) {
        logger.debug("cluster topology refresh requested", metadata: ["reason": "\(reason)"])
        wake.signal()
    }

    /// The node serving `slot`, or nil when none does (as far as the gateway knows).
    func node(forSlot slot: Int) -> ClusterNode? {
        state.withLock { state in
            let owner = state.owners[slot]
            return owner >= 0 ? state.nodes[owner] : nil
        }
    }

    /// The current primaries, in address order.
    var primaries: [ClusterNode] {
        state.withLock { state in state.primaries.map { state.nodes[$0] } }
    }

    /// The node at `address`, with a pool made for it if it is new (a redirect may name a node the
    /// last refresh did not know).
    func node(at address: ServerAddress) -> ClusterNode {
        state.withLock { state in state.nodes[Self.index(of: address, in: &state, makeNode: makeNode)] }
    }

    /// A `MOVED` reply said `slot` now lives at `address`: use that at once, and refresh soon.
    func moved(slot: Int, to address: ServerAddress) {
        state.withLock { state in
            state.owners[slot] = Self.index(of: address, in: &state, makeNode: makeNode)
        }
        refreshSoon("MOVED \(slot) \(address)")
    }

    /// The key specifications Redis reported, once a refresh has read them.
    var keySpecs: CommandKeySpecs? { state.withLock { $0.keySpecs } }

    /// Slots no known primary serves.
    var uncoveredSlots: Int { state.withLock { state in state.owners.lazy.filter { $0 < 0 }.count } }

    /// Refreshes done, and the last refresh failure (for `/pool/stats`).
    var refreshSummary: (refreshes: Int, lastError: String?) { state.withLock { ($0.refreshes, $0.lastRefreshError) } }

    /// Reads the layout from the known primaries, then the seeds, and applies it.
    private func refresh() {
        let (known, needSpecs) = state.withLock { state in (state.primaries.map { state.nodes[$0].address }, state.keySpecs == nil) }
        var candidates = known.shuffled()
        for seed in seeds where !candidates.contains(seed) { candidates.append(seed) }
        let found: ClusterDiscovery.Found
        do {
            found = try ClusterDiscovery.discover(asking: candidates, options: options, readKeySpecs: needSpecs)
        } catch {
            logger.warning("cannot read the cluster layout", metadata: ["error": "\(error)"])
            state.withLock { $0.lastRefreshError = error.description }
            return
        }
        let changed = state.withLock { state in
            var owners = [Int](repeating: -1, count: HashSlot.count)
            for range in found.layout.ranges {
                let index = Self.index(of: range.primary, in: &state, makeNode: makeNode)
                for slot in range.slots where slot < HashSlot.count { owners[slot] = index }
            }
            let primaries = found.layout.primaries.map { Self.index(of: $0, in: &state, makeNode: makeNode) }
            let changed = owners != state.owners || primaries != state.primaries
            state.owners = owners
            state.primaries = primaries
            if let specs = found.keySpecs { state.keySpecs = specs }
            state.refreshes += 1
            state.lastRefreshError = nil
            return changed
        }
        if changed {
            logger.info(
                "cluster layout", metadata: ["primaries": "\(found.layout.primaries)", "slots": "\(found.layout.coveredSlots)"])
            onChange()
        }
    }

    private static func index(of address: ServerAddress, in state: inout State, makeNode: (ServerAddress) -> ClusterNode) -> Int {
        if let index = state.nodes.firstIndex(where: { $0.address == address }) { return index }
        state.nodes.append(makeNode(address))
        return state.nodes.count - 1
    }
}
