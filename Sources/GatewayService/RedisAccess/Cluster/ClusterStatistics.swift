import ConnectionPool
import RedisClient

/// The cluster as `/pool/stats`, `/metrics` and `/readyz` see it: every primary's pool, their
/// totals, and whether every slot has a reachable primary.
struct ClusterStatistics {
    /// One primary's pool.
    struct Node {
        let address: ServerAddress
        let metrics: PoolMetrics
        let statistics: PoolStatistics
    }

    /// The current primaries' pools, in address order.
    let nodes: [Node]
    /// Slots no known primary serves.
    let uncoveredSlots: Int
    /// Layout reads that succeeded.
    let refreshes: Int
    /// Why the last layout read failed, if it did.
    let lastRefreshError: String?

    /// A snapshot of `topology` now.
    init(_ topology: ClusterTopology) {
        nodes = topology.primaries.map { Node(address: $0.address, metrics: $0.metrics, statistics: $0.pool.statistics) }
        uncoveredSlots = topology.uncoveredSlots
        (refreshes, lastRefreshError) = topology.refreshSummary
    }

    /// Up when every slot has a primary and every primary's pool is up; else down, naming why.
    var availability: PoolAvailability {
        for node in nodes {
            if case .down(let since, let error) = node.statistics.availability {
                return .down(since: since, lastError: "\(node.address): \(error)")
            }
        }
        if uncoveredSlots > 0 {
            return .down(since: .now(), lastError: lastRefreshError ?? "\(uncoveredSlots) slots have no known primary")
        }
        return .up
    }

    /// The primaries' pools added together (gauges and counters; the earliest ongoing stall).
    var totals: PoolStatistics {
        var total = PoolStatistics()
        for node in nodes {
            let one = node.statistics
            total.maxConnections += one.maxConnections
            total.open += one.open
            total.idle += one.idle
            total.inUse += one.inUse
            total.leasesInUse += one.leasesInUse
            total.sharedConnections += one.sharedConnections
            total.connecting += one.connecting
            total.waiting += one.waiting
            total.borrows += one.borrows
            total.waitTimeouts += one.waitTimeouts
            total.connects += one.connects
            total.connectFailures += one.connectFailures
            total.closed.merge(one.closed, uniquingKeysWith: +)
            total.healthCheckFailures += one.healthCheckFailures
            total.lastConnectError = one.lastConnectError.map { "\(node.address): \($0)" } ?? total.lastConnectError
            total.outages += one.outages
            total.recoveries += one.recoveries
            total.probes += one.probes
            total.fastFailures += one.fastFailures
            total.leaksDetected += one.leaksDetected
            total.outageSeconds += one.outageSeconds
            total.stalls += one.stalls
            total.stallSeconds += one.stallSeconds
            if let since = one.stalledSince { total.stalledSince = min(total.stalledSince ?? since, since) }
        }
        total.availability = availability
        return total
    }
}
