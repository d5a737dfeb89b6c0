import ConnectionPool
import RedisClient
import Synchronization

/// The Redis half of the asynchronous request path: requests queue their commands with a completion
/// and return at once (their HTTP thread serves other connections); a few sender threads each take
/// whatever is queued, write it in one write on one pooled connection, read the replies and hand each
/// request its own, in order. Redis then reads many commands per system call, as it does behind
/// Webdis, and no thread parks per request.
///
/// - The pool stays the one bound on connections: each batch borrows (within the youngest request's
///   deadline) and gives back. A request still queued at its deadline fails as a borrow would, at
///   its deadline, even while every sender is held up by a slow batch (a watcher thread sees to it).
/// - A request's commands stay contiguous and in order; replies are matched by position, so a reply
///   only ever reaches the request that sent its command. A connection failure fails every request
///   of its batch alike (each one's retry policy then decides); a Redis error reply stays with its
///   command.
/// - Only requests that change no connection state and do not block come here (`Coalescing`).
///
/// Threading: `send` from any thread; completions run on a sender thread and must not block long.
/// Lifecycle: senders start in `init` and end after `stop()`.
final class PipelinedSender: Sendable {
    typealias Outcome = Result<[RedisValue], BorrowError<RedisError>>
    typealias Completion = @Sendable (Outcome) -> Void

    private struct Job {
        let commands: [RedisCommand]
        let deadline: PoolInstant
        let completion: Completion
    }

    private struct State {
        var queue: [Job] = []
        var stopped = false
    }

    let pool: RedisConnectionPool
    private let maxBatchCommands: Int
    private let lock = ConditionLock(State())
    private let work: ConditionLock<State>.Condition
    private let watch: ConditionLock<State>.Condition

    /// `senders` threads sending on `pool`'s connections, each batch at most `maxBatchCommands`
    /// commands (one larger request still goes, alone).
    init(pool: RedisConnectionPool, senders: Int, maxBatchCommands: Int = 512) {
        self.pool = pool
        self.maxBatchCommands = maxBatchCommands
        self.work = lock.makeCondition()
        self.watch = lock.makeCondition()
        for index in 0..<max(1, senders) {
            PoolThread.start(name: "redis-sender-\(index)") { [self] in run() }
        }
        PoolThread.start(name: "redis-sender-deadlines") { [self] in failLateJobs() }
    }

    /// Queues one request's commands; `completion` receives their replies (or the failure).
    func send(_ commands: [RedisCommand], completion: @escaping Completion) {
        let job = Job(commands: commands, deadline: PoolInstant.now().advanced(by: pool.configuration.waitTimeout), completion: completion)
        let accepted = lock.withLock { state in
            guard !state.stopped else { return false }
            state.queue.append(job)
            return true
        }
        guard accepted else { return completion(.failure(.pool(.shutDown))) }
        work.signal()
    }

    /// Ends the sender threads once the queue is empty; later requests fail with `.shutDown`.
    func stop() {
        lock.withLock { $0.stopped = true }
        work.broadcast()
        watch.broadcast()
    }

    /// The watcher: fails each queued request at its deadline, so a request never waits past it
    /// behind a batch that Redis holds up. Deadlines grow in queue order (the same wait timeout
    /// from each request's arrival), so only the head of the queue needs looking at. Never
    /// signalled on the hot path: it sleeps until the head's deadline.
    private func failLateJobs() {
        while true {
            let now = PoolInstant.now()
            let (late, next, stopped) = lock.withLock { state -> ([Job], PoolInstant?, Bool) in
                var count = 0
                while count < state.queue.count, state.queue[count].deadline <= now { count += 1 }
                let late = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                return (late, state.queue.first?.deadline, state.stopped)
            }
            for job in late {
                failLate(job)
            }
            if stopped { return }
            // With the queue empty, whatever arrives next is due a wait timeout after this at the
            // earliest.
            let wake = next ?? now.advanced(by: pool.configuration.waitTimeout)
            lock.wait(on: watch, until: wake, poll: { state in state.stopped ? () : nil }, timedOut: { _ in () })
        }
    }

    /// Fails a job that reached its deadline before any batch took it, as a borrow that waited too long.
    private func failLate(_ job: Job) {
        job.completion(.failure(.pool(pool.waitTimedOutBeforeBorrowing(waited: pool.configuration.waitTimeout))))
    }

    private func run() {
        while let batch = nextBatch() {
            let now = PoolInstant.now()
            var live: [Job] = []
            for job in batch {
                if now >= job.deadline {
                    failLate(job)
                } else {
                    live.append(job)
                }
            }
            if !live.isEmpty { send(live) }
        }
    }

    /// The next batch in queue order (empty after an idle hour); nil once stopped and drained.
    private func nextBatch() -> [Job]? {
        lock.wait(
            on: work, until: PoolInstant.now().advanced(by: .seconds(3600)),
            poll: { state -> [Job]?? in
                if state.queue.isEmpty { return state.stopped ? .some(nil) : nil }
                var count = 0
                var taken = 0
                for job in state.queue {
                    if taken > 0, count + job.commands.count > maxBatchCommands { break }
                    count += job.commands.count
                    taken += 1
                }
                let batch = Array(state.queue.prefix(taken))
                state.queue.removeFirst(taken)
                return .some(batch)
            },
            timedOut: { _ in [] })
    }

    private func send(_ batch: [Job]) {
        let commands = batch.count == 1 ? batch[0].commands : batch.flatMap(\.commands)
        let deadline = batch.lazy.map(\.deadline).max() ?? PoolInstant.now()
        let received: [Result<RedisValue, RedisError>]
        let failure: BorrowError<RedisError>?
        do {
            // A connection the round trip broke is not reusable: the pool closes it on return.
            (received, failure) = try pool.withConnection(label: "pipelined batch", deadline: deadline) {
                connection throws(RedisError) in
                let outcome = connection.pipelineKeepingReplies(commands)
                return (outcome.received, outcome.failure.map(BorrowError.operation))
            }
        } catch {
            (received, failure) = ([], error)
        }
        var offset = 0
        for job in batch {
            let end = offset + job.commands.count
            if end <= received.count {
                // All its replies arrived; one over the budget is this request's failure alone.
                let own = received[offset..<end]
                var values: [RedisValue] = []
                var ownFailure: RedisError?
                for result in own {
                    switch result {
                    case .success(let value): values.append(value)
                    case .failure(let error): ownFailure = ownFailure ?? error
                    }
                }
                job.completion(ownFailure.map { .failure(.operation($0)) } ?? .success(values))
            } else if let failure {
                job.completion(.failure(Self.failure(failure, forJobFrom: offset, brokenAt: received.count)))
            }
            offset = end
        }
    }

    /// What a job whose commands start at `offset` gets when the round trip broke at reply
    /// `brokenAt`. A reply over the budget is its own request's failure; the requests after it get
    /// a broken connection that may have run their commands (a read is re-sent, a write answers
    /// that its outcome is unknown), never another request's "reply too large". Any other failure
    /// (a timeout, Redis gone) is every request's own.
    private static func failure(_ failure: BorrowError<RedisError>, forJobFrom offset: Int, brokenAt: Int) -> BorrowError<RedisError> {
        guard case .operation(let error) = failure, error.kind == .replyTooLarge, offset > brokenAt else { return failure }
        return .operation(
            RedisError(
                .connectionBroken, "the connection broke on an earlier reply of the same round trip (\(error.message))",
                mayHaveReachedRedis: true))
    }
}
