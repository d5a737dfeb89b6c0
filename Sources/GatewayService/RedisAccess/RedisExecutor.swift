public import ConnectionPool
import CoreUtilities
import Foundation
public import RedisClient
import Synchronization

/// The service's one way to talk to Redis — the Redis-access layer every handler goes through:
/// take a lease from the shared pool (the kind `LeasePolicy` decides), run commands, give the lease
/// back, re-send what `RetryPolicy` says is safe to re-send, confirm writes with replicas when asked
/// to, and turn every failure into a `GatewayError`.
///
/// One deadline per request, set when it arrives here (`waitTimeout` later): it bounds the wait
/// for a worker thread and for the lease, on both kinds of lease; the round trip then has the
/// socket timeout. A re-send has a deadline of its own.
///
/// A `READONLY` reply (the node became a replica) or a broken connection is reported through
/// `onTopologyError` (with Sentinel: look for the master again). A request answered `READONLY`
/// wrote nothing, so it is re-sent like one that never reached Redis.
///
/// On a cluster (`init(cluster:…)`) each request is planned and sent per node by `ClusterDispatch`,
/// each node's share through the same borrow-send-retry steps on that node's pool.
///
/// Threading: shared by all worker threads; each call borrows its own connection.
public final class RedisExecutor: Sendable {
    /// Where commands go: one pool, or a cluster's pools.
    private enum Topology: Sendable {
        case single(RedisConnectionPool)
        case cluster(ClusterTopology)
    }

    private let topology: Topology
    /// When a failed request is sent again.
    public let retry: RetryPolicy
    /// Whether writes wait for replicas.
    public let replicaAcknowledgement: ReplicaAcknowledgement
    /// The I/O of shared leases, for read-only requests and for the others apart: a write Redis
    /// holds back (`CLIENT PAUSE WRITE`, a replica catching up) never stalls the reads behind it.
    private let sharedIO: SharedIOPair?
    /// The threads that hold exclusive leases on the HTTP threads' behalf (`offload`).
    private let workers: BlockingWorkers
    private let onResend: @Sendable (RedisError) -> Void
    private let onTopologyError: @Sendable (String) -> Void
    /// Kills a script still running when its request timed out (the script run-time budget).
    private let scriptKiller: ScriptTimeoutKiller?

    /// Access through `pool`, re-sending per `retry`, confirming writes per `replicaAcknowledgement`;
    /// `onResend` is told of each re-send (metrics), `onTopologyError` of READONLY replies and
    /// broken connections.
    public init(
        pool: RedisConnectionPool, retry: RetryPolicy = RetryPolicy(),
        replicaAcknowledgement: ReplicaAcknowledgement = ReplicaAcknowledgement(), sharedIOThreads: Int = 0,
        workers: BlockingWorkers? = nil, scriptKiller: ScriptTimeoutKiller? = nil,
        onResend: @escaping @Sendable (RedisError) -> Void = { _ in }, onTopologyError: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.scriptKiller = scriptKiller
        self.topology = .single(pool)
        self.workers = workers ?? Self.workers(for: pool.configuration)
        self.sharedIO = SharedIOPair(pool: pool, threads: sharedIOThreads)
        self.retry = retry
        self.replicaAcknowledgement = replicaAcknowledgement
        self.onResend = onResend
        self.onTopologyError = onTopologyError
    }

    /// Access to a cluster through `cluster`'s per-node pools (each node has its own shared-lease I/O).
    /// Re-sends are counted on the node's pool metrics.
    init(
        cluster: ClusterTopology, retry: RetryPolicy, replicaAcknowledgement: ReplicaAcknowledgement, workers: BlockingWorkers,
        scriptKiller: ScriptTimeoutKiller? = nil
    ) {
        self.scriptKiller = scriptKiller
        self.topology = .cluster(cluster)
        self.workers = workers
        self.sharedIO = nil
        self.retry = retry
        self.replicaAcknowledgement = replicaAcknowledgement
        self.onResend = { _ in }
        self.onTopologyError = { reason in cluster.refreshSoon(reason) }
    }

    /// The fixed set of threads for exclusive leases beside a pool configured so: as many as the
    /// pool has connections (each holds at most one at a time), at least 16; work waits for one at
    /// most until its request's deadline.
    public static func workers(for pool: PoolConfiguration) -> BlockingWorkers {
        BlockingWorkers(name: "redis-wait", limit: max(pool.maxConnections, 16), startTimeout: pool.waitTimeout)
    }

    /// Runs `work`, which waits for Redis (exclusive leases, round trips, a database read), on a
    /// thread kept for waiting, never on the caller's: the HTTP threads, as few as the cores, keep
    /// serving. The request's deadline is set now (`RequestDeadline`): when no such thread frees up
    /// by then, `work` does not run and `refused` gets the timeout a borrow would have given (503);
    /// its first borrows wait at most until then too.
    public func offload(_ work: @escaping @Sendable () -> Void, refused: @escaping @Sendable (GatewayError) -> Void) {
        let deadline = PoolInstant.now().advanced(by: workers.startTimeout)
        workers.run(startBy: deadline) { [self] started in
            guard started else {
                switch topology {
                case .single(let pool): return refused(.pool(pool.waitTimedOutBeforeBorrowing(waited: workers.startTimeout)))
                case .cluster: return refused(.pool(.timeout(waited: workers.startTimeout, statistics: statistics)))
                }
            }
            RequestDeadline.with(deadline, work)
        }
    }

    /// The one entry point: runs `commands` (one request's, in order, their replies sharing one
    /// reply budget: `budget`, `.unbounded` for the gateway's own reads of what Redis is, such as
    /// `COMMAND`) under one lease of the kind `LeasePolicy` gives them, and hands `completion`
    /// their replies (on a cluster: one part per node, replies in order). The request's deadline is
    /// the current worker's (`RequestDeadline`), or the wait timeout from now. `label` names the
    /// caller (the route) in leak reports.
    ///
    /// - Shared: the commands ride a shared connection; `completion` runs on an I/O thread.
    /// - Exclusive: on a worker thread already (inside `offload`), the commands run here and
    ///   `completion` runs before this returns; otherwise the work goes to a worker (`offload`).
    ///
    /// On a cluster a shared lease is taken on the node of a request whose keys all hash to one
    /// slot; a reply that says the slot moved (or the cluster cannot serve it now) sends the request
    /// again with an exclusive lease, which follows the redirect.
    public func execute(
        _ commands: [RedisCommand], label: String, budget: ReplyBudgetScope = .allReplies,
        completion: @escaping @Sendable (Result<[RedisValue], GatewayError>) -> Void
    ) {
        let exclusive: @Sendable () -> Void = { [self] in
            let run: @Sendable () -> Void = {
                completion(Result { () throws(GatewayError) in try self.runExclusive(commands, label: label, budget: budget) })
            }
            if RequestDeadline.current != nil { return run() }
            offload(run) { completion(.failure($0)) }
        }
        guard let route = sharedRoute(for: commands, budget: budget) else { return exclusive() }
        let deadline = RequestDeadline.current ?? PoolInstant.now().advanced(by: route.io.pool.configuration.waitTimeout)
        send(commands, commandCount: commands.count, through: route.io, deadline: deadline, attempt: 1, onResend: route.onResend) {
            result in
            guard let cluster = route.cluster else { return completion(result) }
            switch result {
            case .success(let replies) where replies.contains(where: { $0.errorMessage.map(ClusterDispatch.isClusterRefusal) ?? false }):
                // Nothing ran: the exclusive lease follows the redirect, off the I/O thread.
                exclusive()
            case .failure:
                cluster.refreshSoon("a node failed a shared round trip")
                completion(result)
            case .success:
                completion(result)
            }
        }
    }

    /// `execute` for work on a worker thread (inside `offload`), which may wait: returns the replies.
    /// The lease kind is the same `LeasePolicy`'s; a shared lease's replies are waited for here.
    public func execute(_ commands: [RedisCommand], label: String, budget: ReplyBudgetScope = .allReplies) throws(GatewayError)
        -> [RedisValue]
    {
        // Only a worker waits for a shared lease: an I/O or HTTP thread must never park on one.
        guard RequestDeadline.current != nil, sharedRoute(for: commands, budget: budget) != nil else {
            return try runExclusive(commands, label: label, budget: budget)
        }
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<[RedisValue], GatewayError>?>(nil)
        execute(commands, label: label, budget: budget) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        // Bounded: the lease has the request's deadline, the round trip the socket timeout.
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// `execute` for one command: its reply; an error reply throws `.redisReply`.
    public func execute(_ command: RedisCommand, label: String, budget: ReplyBudgetScope = .allReplies) throws(GatewayError) -> RedisValue {
        let reply = try execute([command], label: label, budget: budget)[0]
        if let message = reply.errorMessage { throw .redisReply(message) }
        return reply
    }

    /// Where a shared lease for `commands` goes, or nil when they take an exclusive one: the lease
    /// policy says shared, no replica confirmation is asked (`WAIT` blocks), and the topology has
    /// shared-lease I/O for them (on a cluster: their keys' one node).
    private func sharedRoute(for commands: [RedisCommand], budget: ReplyBudgetScope)
        -> (io: SharedConnectionIO, onResend: @Sendable (RedisError) -> Void, cluster: ClusterTopology?)?
    {
        guard case .shared(let group) = LeasePolicy.kind(of: commands, budget: budget),
            replicaAcknowledgement.wait(after: commands) == nil
        else { return nil }
        switch topology {
        case .single:
            return sharedIO.map { ($0[group], onResend, nil) }
        case .cluster(let cluster):
            guard let node = ClusterDispatch(topology: cluster).singleNode(for: commands), let io = node.sharedIO else { return nil }
            return (io[group], node.metrics.resent, cluster)
        }
    }

    /// An exclusive lease for `commands` (on a cluster: one per node), here, on a thread that may wait.
    private func runExclusive(_ commands: [RedisCommand], label: String, budget: ReplyBudgetScope) throws(GatewayError)
        -> [RedisValue]
    {
        switch topology {
        case .single(let pool):
            return try runExclusive(commands, on: pool, label: label, budget: budget, onResend: onResend)
        case .cluster(let cluster):
            return try ClusterDispatch(topology: cluster).pipeline(commands) { node, share throws(GatewayError) in
                try runExclusive(share, on: node.pool, label: label, budget: budget, onResend: node.metrics.resent)
            }
        }
    }

    /// Whether this executor fronts a Redis Cluster.
    public var isCluster: Bool {
        if case .cluster = topology { return true }
        return false
    }

    private func runExclusive(
        _ commands: [RedisCommand], on pool: RedisConnectionPool, label: String, budget: ReplyBudgetScope = .allReplies,
        onResend: (RedisError) -> Void
    ) throws(GatewayError) -> [RedisValue] {
        let sent = withReplicaWait(commands)
        var attempt = 1
        // The first attempt waits within the request's deadline; a re-send has a wait of its own.
        var deadline = RequestDeadline.current
        while true {
            let outcome = borrowAndSend(sent, on: pool, label: label, budget: budget, deadline: deadline)
            deadline = nil
            switch verdict(on: outcome, sent: sent, commandCount: commands.count, attempt: attempt) {
            case .finished(let result):
                afterTimeout(result, sent, on: pool)
                return try result.get()
            case .resend(let failure):
                onResend(failure)
                Thread.sleep(forTimeInterval: retry.delay(beforeResend: attempt, jitter: .random(in: 0..<1)).secondsDouble)
                attempt += 1
            }
        }
    }

    private func send(
        _ sent: [RedisCommand], commandCount: Int, through io: SharedConnectionIO, deadline: PoolInstant, attempt: Int,
        onResend: @escaping @Sendable (RedisError) -> Void, completion: @escaping @Sendable (Result<[RedisValue], GatewayError>) -> Void
    ) {
        io.send(sent, deadline: deadline) { [self] outcome in
            switch verdict(on: outcome, sent: sent, commandCount: commandCount, attempt: attempt) {
            case .finished(let result):
                afterTimeout(result, sent, on: io.pool)
                completion(result)
            case .resend(let failure):
                onResend(failure)
                // The back-off waits on the pool's timer: no thread is held or started per re-send.
                let resendAt = PoolInstant.now().advanced(by: retry.delay(beforeResend: attempt, jitter: .random(in: 0..<1)))
                io.pool.schedule(at: resendAt) { [self] in
                    send(
                        sent, commandCount: commandCount, through: io,
                        deadline: PoolInstant.now().advanced(by: io.pool.configuration.waitTimeout), attempt: attempt + 1,
                        onResend: onResend, completion: completion)
                }
            }
        }
    }

    /// A script still running when its request timed out is killed (`ScriptTimeoutKiller`).
    private func afterTimeout(_ result: Result<[RedisValue], GatewayError>, _ sent: [RedisCommand], on pool: RedisConnectionPool) {
        guard let scriptKiller, case .failure(.redis(let error)) = result, error.kind == .timeout else { return }
        scriptKiller.timedOut(sent, factory: pool.factory)
    }

    /// What one attempt's outcome means: the result, or a re-send the retry policy allows.
    private enum Verdict {
        case finished(Result<[RedisValue], GatewayError>)
        case resend(RedisError)
    }

    private func verdict(
        on outcome: Result<[RedisValue], BorrowError<RedisError>>, sent: [RedisCommand], commandCount: Int, attempt: Int
    ) -> Verdict {
        let failure: RedisError
        switch outcome {
        case .success(let replies):
            if !replies.contains(where: \.isReadOnlyRefusal) {
                return .finished(Result { () throws(GatewayError) in try confirmed(replies, commandCount: commandCount) })
            }
            onTopologyError("READONLY reply")
            failure = RedisError(.io, "Redis answered READONLY: the master moved", mayHaveReachedRedis: false)
        case .failure(.pool(let poolError)):
            return .finished(.failure(.pool(poolError)))
        case .failure(.operation(let redisError)):
            if redisError.kind == .io || redisError.kind == .connectionBroken { onTopologyError(redisError.message) }
            failure = redisError
        }
        guard retry.allowsResend(of: sent, after: failure, attempt: attempt) else { return .finished(.failure(.redis(failure))) }
        return .resend(failure)
    }

    /// `commands`, followed by `WAIT` when writes must be confirmed by replicas.
    private func withReplicaWait(_ commands: [RedisCommand]) -> [RedisCommand] {
        replicaAcknowledgement.wait(after: commands).map { commands + [$0] } ?? commands
    }

    /// Ends the shared-lease I/O threads and the workers (after the HTTP server stopped).
    public func stop() {
        sharedIO?.stop()
        workers.stop()
    }

    /// The pool's gauges and counters now (for `/pool/stats` and `/metrics`); on a cluster, the
    /// primaries' pools added together.
    public var statistics: PoolStatistics {
        switch topology {
        case .single(let pool): pool.statistics
        case .cluster(let cluster): ClusterStatistics(cluster).totals
        }
    }

    /// Whether Redis is up, or down since when and why (for `/readyz`); on a cluster, up when every
    /// slot has a primary and every primary's pool is up.
    public var availability: PoolAvailability {
        switch topology {
        case .single(let pool): pool.availability
        case .cluster(let cluster): ClusterStatistics(cluster).availability
        }
    }

    /// The cluster's per-node pools now; nil for a single Redis.
    var clusterStatistics: ClusterStatistics? {
        if case .cluster(let cluster) = topology { return ClusterStatistics(cluster) }
        return nil
    }

    private func borrowAndSend(
        _ commands: [RedisCommand], on pool: RedisConnectionPool, label: String, budget: ReplyBudgetScope, deadline: PoolInstant?
    ) -> Result<[RedisValue], BorrowError<RedisError>> {
        do {
            return .success(
                try pool.withConnection(label: label, deadline: deadline) { connection throws(RedisError) in
                    // One request's commands: their replies share one budget.
                    try connection.pipeline(commands, budget: budget)
                })
        } catch {
            return .failure(error)
        }
    }

    /// The replies to the caller's commands, once the trailing `WAIT` (if any) counted enough replicas.
    private func confirmed(_ replies: [RedisValue], commandCount: Int) throws(GatewayError) -> [RedisValue] {
        guard replies.count > commandCount else { return replies }
        let acknowledged = replies[commandCount].integer ?? 0
        guard acknowledged >= Int64(replicaAcknowledgement.replicas) else {
            throw .replicationUnconfirmed(
                "the write reached the master but \(acknowledged) of \(replicaAcknowledgement.replicas) replicas confirmed it "
                    + "within \(replicaAcknowledgement.timeout); it may not survive a failover")
        }
        return Array(replies.prefix(commandCount))
    }
}

extension RedisValue {
    /// A `READONLY You can't write against a read only replica.` error reply.
    fileprivate var isReadOnlyRefusal: Bool {
        errorMessage?.hasPrefix("READONLY") ?? false
    }
}
