import ConnectionPool
import RedisClient

/// The connection I/O of shared leases, for one group of one pool: a request takes a shared lease
/// (`ConnectionPool.lease`) and returns at once, its HTTP thread serving other connections. Once
/// granted, its commands wait on their connection; a few `redis-io` threads each take a connection
/// with commands waiting, write all of them in one write, read the replies, give the leases back
/// and hand each request its own replies, in order. Redis then reads many commands per system call,
/// as it does behind Webdis, and no thread parks per request.
///
/// - The pool decides everything else: how many connections carry shared leases, how many
///   commands ride one connection at once (`maxStreamsPerConnection`), and when a queued lease
///   fails (its request's deadline). Every request is one borrow in `/pool/stats`.
/// - A request whose deadline passes while its connection is busy with an earlier round trip (Redis
///   stalled, `CLIENT PAUSE`) is not sent: it fails at its deadline with the pool's timeout (counted
///   as a wait timeout; nothing of it reached Redis). One watch on the pool's timer sees to it,
///   armed while requests wait, so no thread and no timer is added per request.
/// - A request's commands stay contiguous and in order; replies are matched by position, so a reply
///   only ever reaches the request that sent its command. A connection failure fails every request
///   of its round trip alike (each one's retry policy then decides); a Redis error reply stays with
///   its command.
///
/// Threading: `send` from any thread; completions run on a `redis-io` thread (or on the thread that
/// asked, when the pool fails the lease at once) and must not block.
/// Lifecycle: threads start in `init` and end after `stop()`.
final class SharedConnectionIO: Sendable {
    typealias Outcome = Result<[RedisValue], BorrowError<RedisError>>
    typealias Completion = @Sendable (Outcome) -> Void
    typealias Lease = PoolLease<RedisConnection>

    private struct Job {
        let commands: [RedisCommand]
        let lease: Lease
        let deadline: PoolInstant
        let completion: Completion
    }

    private struct State {
        /// Granted jobs, per connection, in grant order.
        var waiting: [ObjectIdentifier: [Job]] = [:]
        /// Connections with jobs waiting and no thread on them, in the order they got work.
        var ready: [ObjectIdentifier] = []
        /// Connections that are in `ready` or have a thread on them.
        var scheduled: Set<ObjectIdentifier> = []
        /// When the deadline watch is scheduled on the pool's timer; nil while it is not.
        var watchAt: PoolInstant?
        var stopped = false
    }

    let pool: RedisConnectionPool
    private let group: Int
    private let label: String
    private let lock = ConditionLock(State())
    private let work: ConditionLock<State>.Condition

    /// `threads` threads named `redis-io-<name>-N` serving the shared leases of `group` on `pool`.
    init(pool: RedisConnectionPool, group: Int, name: String, threads: Int) {
        self.pool = pool
        self.group = group
        self.label = "shared \(name)"
        self.work = lock.makeCondition()
        for index in 1...max(1, threads) {
            PoolThread.start(name: "redis-io-\(name)-\(index)") { [self] in serve() }
        }
    }

    /// Takes a shared lease for `commands`, to be granted and sent by `deadline`; `completion`
    /// receives their replies (or the failure).
    func send(_ commands: [RedisCommand], deadline: PoolInstant, completion: @escaping Completion) {
        pool.lease(.shared(group: group), streams: commands.count, label: label, deadline: deadline) { [self] granted in
            switch granted {
            case .failure(let error): completion(.failure(.pool(error)))
            case .success(let lease): enqueue(Job(commands: commands, lease: lease, deadline: deadline, completion: completion))
            }
        }
    }

    /// Connections a thread is on now, in a round trip (tests await it).
    var roundTripsInFlight: Int {
        lock.withLock { $0.scheduled.count - $0.ready.count }
    }

    /// Ends the threads once no work is left; later requests fail with `.shutDown`.
    func stop() {
        lock.withLock { $0.stopped = true }
        work.broadcast()
    }

    private func enqueue(_ job: Job) {
        let key = ObjectIdentifier(job.lease.connection)
        let (accepted, signal, arm) = lock.withLock { state -> (Bool, Bool, Bool) in
            guard !state.stopped else { return (false, false, false) }
            state.waiting[key, default: []].append(job)
            // Jobs may be granted out of deadline order: the watch comes for the earliest.
            let arm = state.watchAt.map { job.deadline < $0 } ?? true
            if arm { state.watchAt = job.deadline }
            guard state.scheduled.insert(key).inserted else { return (true, false, arm) }
            state.ready.append(key)
            return (true, true, arm)
        }
        guard accepted else {
            pool.giveBack([job.lease])
            return job.completion(.failure(.pool(.shutDown)))
        }
        if signal { work.signal() }
        if arm { pool.schedule(at: job.deadline) { [self] in watchDeadlines() } }
    }

    /// The deadline watch, on the pool's timer: fails the waiting jobs whose deadline passed, and
    /// comes back at the next one's, while any wait.
    private func watchDeadlines() {
        let now = PoolInstant.now()
        let (late, next) = lock.withLock { state -> ([Job], PoolInstant?) in
            var late: [Job] = []
            var next: PoolInstant?
            for (key, jobs) in state.waiting {
                var kept: [Job] = []
                for job in jobs {
                    if now >= job.deadline {
                        late.append(job)
                    } else {
                        kept.append(job)
                        next = min(next ?? job.deadline, job.deadline)
                    }
                }
                if kept.count < jobs.count { state.waiting[key] = kept.isEmpty ? nil : kept }
            }
            // A watch scheduled for later stays; an earlier one replaces it.
            if let next, let armed = state.watchAt, armed > now, armed <= next { return (late, nil) }
            state.watchAt = next
            return (late, next)
        }
        if let next { pool.schedule(at: next) { [self] in watchDeadlines() } }
        failLate(late)
    }

    /// Jobs whose deadline passed before they could be sent: their leases go back unused (each a
    /// wait timeout) and each fails with the pool's timeout.
    private func failLate(_ jobs: [Job]) {
        guard !jobs.isEmpty else { return }
        var byConnection: [ObjectIdentifier: [Lease]] = [:]
        for job in jobs { byConnection[ObjectIdentifier(job.lease.connection), default: []].append(job.lease) }
        let waited = pool.configuration.waitTimeout
        for leases in byConnection.values { pool.giveBackUnused(leases, waited: waited) }
        let timeout = PoolError.timeout(waited: waited, statistics: pool.statistics)
        for job in jobs { job.completion(.failure(.pool(timeout))) }
    }

    private enum Next {
        case connection(ObjectIdentifier, [Job])
        case idle
        case stop
    }

    private func serve() {
        while true {
            switch nextConnection() {
            case .connection(let key, let jobs):
                run(jobs)
                finished(key)
            case .idle: continue
            case .stop: return
            }
        }
    }

    /// The next connection with jobs waiting, and all of them; `.stop` once stopped and drained;
    /// `.idle` after an idle day.
    private func nextConnection() -> Next {
        lock.wait(
            on: work, until: PoolInstant.now().advanced(by: .seconds(86_400)),
            poll: { state -> Next? in
                guard !state.ready.isEmpty else { return state.stopped && state.scheduled.isEmpty ? .stop : nil }
                let key = state.ready.removeFirst()
                return .connection(key, state.waiting.removeValue(forKey: key) ?? [])
            },
            timedOut: { _ in .idle })
    }

    /// The round trip on `key` is over: jobs that arrived for it meanwhile make it ready again.
    private func finished(_ key: ObjectIdentifier) {
        let signal = lock.withLock { state -> Bool in
            guard state.waiting[key] != nil else {
                state.scheduled.remove(key)
                return state.stopped && state.scheduled.isEmpty
            }
            state.ready.append(key)
            return true
        }
        if signal { work.broadcast() }
    }

    /// One round trip for `jobs`, all on one connection: late ones fail unsent, the rest go in one
    /// write; the leases go back before any completion runs (one may lease again).
    private func run(_ jobs: [Job]) {
        guard let connection = jobs.first?.lease.connection else { return }
        let now = PoolInstant.now()
        let late = jobs.filter { now >= $0.deadline }
        let live = late.isEmpty ? jobs : jobs.filter { now < $0.deadline }
        var received: [Result<RedisValue, RedisError>] = []
        var failure: RedisError?
        if !live.isEmpty {
            let commands = live.count == 1 ? live[0].commands : live.flatMap(\.commands)
            // A connection the round trip broke is not reusable: the pool closes it after its last lease.
            (received, failure) = connection.pipelineKeepingReplies(commands, requestSizes: live.map(\.commands.count))
        }
        if !live.isEmpty { pool.giveBack(live.map(\.lease)) }
        failLate(late)
        var offset = 0
        for job in live {
            let end = offset + job.commands.count
            if end <= received.count {
                // All its replies arrived; one over the budget is this request's failure alone.
                var values: [RedisValue] = []
                values.reserveCapacity(job.commands.count)
                var ownFailure: RedisError?
                for result in received[offset..<end] {
                    switch result {
                    case .success(let value): values.append(value)
                    case .failure(let error): ownFailure = ownFailure ?? error
                    }
                }
                job.completion(ownFailure.map { .failure(.operation($0)) } ?? .success(values))
            } else {
                let failure =
                    failure ?? RedisError(.connectionBroken, "the round trip ended before this reply", mayHaveReachedRedis: true)
                job.completion(.failure(.operation(Self.failure(failure, forJobFrom: offset, brokenAt: received.count))))
            }
            offset = end
        }
    }

    /// What a job whose commands start at `offset` gets when the round trip broke at reply
    /// `brokenAt`. A reply over the budget is its own request's failure; the requests after it get
    /// a broken connection that may have run their commands (a read is re-sent, a write answers
    /// that its outcome is unknown), never another request's "reply too large". Any other failure
    /// (a timeout, Redis gone) is every request's own.
    static func failure(_ failure: RedisError, forJobFrom offset: Int, brokenAt: Int) -> RedisError {
        guard failure.kind == .replyTooLarge, offset > brokenAt else { return failure }
        return RedisError(
            .connectionBroken, "the connection broke on an earlier reply of the same round trip (\(failure.message))",
            mayHaveReachedRedis: true)
    }
}
