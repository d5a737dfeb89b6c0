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
/// Where commands go is the `RedisTopology`'s (single node, Sentinel, Cluster): its pools, its
/// shared-lease I/O, its re-routing. A `READONLY` reply (the node became a replica) or a broken
/// connection is reported to it (`suspectChange`: with Sentinel, look for the master again; on a
/// cluster, refresh the slot map). A request answered `READONLY` wrote nothing, so it is re-sent
/// like one that never reached Redis.
///
/// Threading: shared by all threads; each call takes its own lease.
public final class RedisExecutor: Sendable {
    private let topology: any RedisTopology
    /// When a failed request is sent again.
    public let retry: RetryPolicy
    /// Whether writes wait for replicas.
    public let replicaAcknowledgement: ReplicaAcknowledgement
    /// The threads that hold exclusive leases on the HTTP threads' behalf (`offload`).
    private let workers: BlockingWorkers
    /// Kills a script still running when its request timed out (the script run-time budget).
    private let scriptKiller: ScriptTimeoutKiller?

    /// Access through `topology`, re-sending per `retry`, confirming writes per
    /// `replicaAcknowledgement`, holding exclusive leases on `workers`.
    init(
        topology: any RedisTopology, retry: RetryPolicy, replicaAcknowledgement: ReplicaAcknowledgement, workers: BlockingWorkers,
        scriptKiller: ScriptTimeoutKiller? = nil
    ) {
        self.topology = topology
        self.retry = retry
        self.replicaAcknowledgement = replicaAcknowledgement
        self.workers = workers
        self.scriptKiller = scriptKiller
    }

    /// Access to one Redis through `pool` (with `sharedIOThreads` I/O threads per lease group for
    /// shared leases; 0: every request takes an exclusive lease); `onResend` is told of each
    /// re-send (metrics).
    public convenience init(
        pool: RedisConnectionPool, retry: RetryPolicy = RetryPolicy(),
        replicaAcknowledgement: ReplicaAcknowledgement = ReplicaAcknowledgement(), sharedIOThreads: Int = 0,
        scriptKiller: ScriptTimeoutKiller? = nil, onResend: @escaping @Sendable (RedisError) -> Void = { _ in }
    ) {
        self.init(
            topology: SingleNodeTopology(pool: pool, sharedIO: SharedIOPair(pool: pool, threads: sharedIOThreads), onResend: onResend),
            retry: retry, replicaAcknowledgement: replicaAcknowledgement, workers: Self.workers(for: pool.configuration),
            scriptKiller: scriptKiller)
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
            guard started else { return refused(.pool(topology.workerTimedOut(waited: workers.startTimeout))) }
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
            switch result {
            case .success(let replies) where route.refused?(replies) ?? false:
                // Nothing ran: the exclusive lease follows the redirect, off the I/O thread.
                exclusive()
            case .failure:
                route.onFailure()
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
    private func sharedRoute(for commands: [RedisCommand], budget: ReplyBudgetScope) -> SharedRoute? {
        guard case .shared(let group) = LeasePolicy.kind(of: commands, budget: budget),
            replicaAcknowledgement.wait(after: commands) == nil
        else { return nil }
        return topology.sharedRoute(for: commands, group: group)
    }

    /// An exclusive lease for `commands` (on a cluster: one per node), here, on a thread that may wait.
    private func runExclusive(_ commands: [RedisCommand], label: String, budget: ReplyBudgetScope) throws(GatewayError)
        -> [RedisValue]
    {
        try topology.runExclusive(commands) { part, pool, onResend throws(GatewayError) in
            try runExclusive(part, on: pool, label: label, budget: budget, onResend: onResend)
        }
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
            if let refusal = UnavailableReply.refusal(of: replies, sent: sent) {
                return .finished(.failure(.redisUnavailable(refusal)))
            }
            if !replies.contains(where: \.isReadOnlyRefusal) {
                return .finished(Result { () throws(GatewayError) in try confirmed(replies, commandCount: commandCount) })
            }
            topology.suspectChange("READONLY reply")
            failure = RedisError(.io, "Redis answered READONLY: the master moved", mayHaveReachedRedis: false)
        case .failure(.pool(let poolError)):
            return .finished(.failure(.pool(poolError)))
        case .failure(.operation(let redisError)):
            if redisError.kind == .io || redisError.kind == .connectionBroken { topology.suspectChange(redisError.message) }
            failure = redisError
        }
        guard retry.allowsResend(of: sent, after: failure, attempt: attempt) else { return .finished(.failure(.redis(failure))) }
        return .resend(failure)
    }

    /// `commands`, followed by `WAIT` when writes must be confirmed by replicas.
    private func withReplicaWait(_ commands: [RedisCommand]) -> [RedisCommand] {
        replicaAcknowledgement.wait(after: commands).map { commands + [$0] } ?? commands
    }

    /// Starts following changes of the servers (Sentinel's announcements, the cluster's slot map).
    public func start() { topology.start() }

    /// Shuts the pools (requests waiting for a lease fail at once) and ends the shared-lease I/O.
    public func shutDownPools() { topology.stop() }

    /// `shutDownPools`, and ends the workers (after the HTTP server stopped).
    public func stop() {
        topology.stop()
        workers.stop()
    }

    /// Whether this executor fronts a Redis Cluster.
    public var isCluster: Bool { topology is ClusterTopology }

    /// The pools' gauges and counters now (for `/pool/stats` and `/metrics`); on a cluster, the
    /// primaries' pools added together.
    public var statistics: PoolStatistics { topology.statistics }

    /// Whether Redis is up, or down since when and why (for `/readyz`); on a cluster, up when every
    /// slot has a primary and every primary's pool is up.
    public var availability: PoolAvailability { topology.availability }

    /// The cluster's per-node pools now; nil for a single Redis.
    var clusterStatistics: ClusterStatistics? { topology.clusterStatistics }

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
