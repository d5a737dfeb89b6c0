import ConnectionPool
import RedisClient
import Synchronization

/// Group commit for independent requests: requests that arrive while others are being sent queue
/// up, and whoever sends next writes every queued request's commands in one write on one pooled
/// connection and hands each request its own replies, in order.
///
/// - At most `maxLeaders` requests send at once (each on its own borrowed connection, so the pool
///   stays the one bound on connections); a request that arrives while that many are sending waits
///   in the queue, and the next sender takes it along.
/// - Each sender sends one batch (its own request and whatever queued before it, up to
///   `maxBatchCommands` commands), then hands the turn to the oldest request still queued: no
///   request ever sends for others for longer than one round trip.
/// - A request's commands stay contiguous and in order on the connection, and replies are matched by
///   position, so a reply can only reach the request that sent its command. A failure of the
///   connection fails every request of that batch alike (each one's retry policy then decides for
///   itself); a Redis error reply stays the reply of its own command.
/// - Only requests that change no connection state and do not block belong here: transactions,
///   blocking commands and subscriptions borrow a connection of their own.
///
/// Threading: shared by every worker thread; one lock guards the queue.
final class CommandCoalescer: Sendable {
    typealias Outcome = Result<[RedisValue], BorrowError<RedisError>>

    /// One request's commands, from when it queues until its outcome is handed back.
    private final class Job: @unchecked Sendable {
        enum Stage {
            /// In the queue, waiting for a sender.
            case queued
            /// This request is to send the next batch.
            case sending
            /// A sender took it along; the outcome follows.
            case taken
            /// Done.
            case finished(Outcome)
        }

        let commands: [RedisCommand]
        let deadline: PoolInstant
        /// Guarded by the coalescer's lock.
        var stage = Stage.queued

        init(commands: [RedisCommand], deadline: PoolInstant) {
            self.commands = commands
            self.deadline = deadline
        }
    }

    private struct State {
        var queue: [Job] = []
        var head = 0
        var senders = 0
        var conditions: [ObjectIdentifier: ConditionLock<State>.Condition] = [:]
        var spareConditions: [ConditionLock<State>.Condition] = []

        var queued: Int { queue.count - head }

        mutating func popFirst() -> Job? {
            guard head < queue.count else { return nil }
            let job = queue[head]
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 64, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return job
        }

        mutating func remove(_ job: Job) {
            guard let index = queue[head...].firstIndex(where: { $0 === job }) else { return }
            queue.remove(at: index)
        }
    }

    private let pool: RedisConnectionPool
    private let maxLeaders: Int
    private let maxBatchCommands: Int
    private let waitTimeout: Duration
    private let lock = ConditionLock(State())
    private let counts = Atomic<Int>(0)
    private let batches = Atomic<Int>(0)

    /// Requests sent through the coalescer, and the batches (round trips) they took.
    var statistics: (requests: Int, batches: Int) {
        (counts.load(ordering: .relaxed), batches.load(ordering: .relaxed))
    }

    /// A coalescer sending on `pool`'s connections, at most `maxLeaders` batches at once, each of at
    /// most `maxBatchCommands` commands (a single larger request is still sent, alone).
    init(pool: RedisConnectionPool, maxLeaders: Int, maxBatchCommands: Int = 512) {
        self.pool = pool
        self.maxLeaders = max(1, maxLeaders)
        self.maxBatchCommands = maxBatchCommands
        self.waitTimeout = pool.configuration.waitTimeout
    }

    /// Sends `commands` (one request's, contiguous) together with whatever else is queued, and
    /// returns their replies. A request that no sender took along within the pool's wait timeout
    /// fails as a borrow would (`.pool(.timeout)`).
    func send(_ commands: [RedisCommand], label: String) -> Outcome {
        let job = Job(commands: commands, deadline: PoolInstant.now().advanced(by: waitTimeout))
        let (sends, spare) = lock.withLock { state in
            guard state.senders < maxLeaders else {
                state.queue.append(job)
                return (false, state.spareConditions.popLast())
            }
            state.senders += 1
            job.stage = .sending
            return (true, nil as ConditionLock<State>.Condition?)
        }
        if sends { sendBatch(as: job, label: label) }
        return outcome(of: job, label: label, condition: spare)
    }

    // MARK: Waiting

    /// Waits for `job`'s outcome; sends a batch when its turn comes.
    private func outcome(of job: Job, label: String, condition spare: ConditionLock<State>.Condition?) -> Outcome {
        var condition = spare
        while true {
            if let finished = finishedOutcome(of: job) { return finished }
            let waitCondition = condition ?? lock.makeCondition()
            condition = waitCondition
            // Past the deadline, a queued job gives up; a taken one waits for its sender, whose
            // round trip the socket timeout bounds.
            let step: Job.Stage = lock.wait(
                on: waitCondition,
                until: job.deadline,
                poll: { state in
                    switch job.stage {
                    case .queued, .taken:
                        state.conditions[ObjectIdentifier(job)] = waitCondition
                        return nil
                    case .sending, .finished:
                        state.conditions[ObjectIdentifier(job)] = nil
                        return job.stage
                    }
                },
                timedOut: { state in
                    switch job.stage {
                    case .queued:
                        state.remove(job)
                        state.conditions[ObjectIdentifier(job)] = nil
                        job.stage = .finished(.failure(.pool(.timeout(waited: waitTimeout, statistics: pool.statistics))))
                    case .taken, .sending, .finished:
                        break
                    }
                    return job.stage
                })
            switch step {
            case .sending:
                sendBatch(as: job, label: label)
            case .finished(let outcome):
                lock.withLock { $0.spareConditions.append(waitCondition) }
                return outcome
            case .queued, .taken:
                // Taken just as the deadline passed: keep waiting for the sender (no deadline of our own).
                continue
            }
        }
    }

    private func finishedOutcome(of job: Job) -> Outcome? {
        lock.withLock { _ in
            if case .finished(let outcome) = job.stage { return outcome }
            return nil
        }
    }

    // MARK: Sending

    /// `sender` sends one batch: itself (unless another sender took it along) and the queued jobs
    /// in order, then hands the turn to the oldest job still queued, or gives it up.
    private func sendBatch(as sender: Job, label: String) {
        let batch = lock.withLock { state in takeBatch(&state, sender: sender) }
        counts.add(batch.count, ordering: .relaxed)
        batches.add(1, ordering: .relaxed)
        let commands = batch.count == 1 ? batch[0].commands : batch.flatMap(\.commands)
        // The borrow may wait as long as the youngest request of the batch may.
        let deadline = batch.lazy.map(\.deadline).max() ?? sender.deadline
        let result: Outcome
        do {
            result = .success(
                try pool.withConnection(label: label, deadline: deadline) { connection throws(RedisError) in
                    try connection.pipeline(commands)
                })
        } catch {
            result = .failure(error)
        }
        let woken = lock.withLock { state in
            var woken: [ConditionLock<State>.Condition] = []
            var offset = 0
            for job in batch {
                switch result {
                case .success(let replies):
                    job.stage = .finished(.success(Array(replies[offset..<offset + job.commands.count])))
                case .failure(let error):
                    job.stage = .finished(.failure(error))
                }
                offset += job.commands.count
                if let condition = state.conditions.removeValue(forKey: ObjectIdentifier(job)) { woken.append(condition) }
            }
            // Hand the turn on: the oldest queued job sends next, or there is one sender fewer.
            if let next = state.popFirst() {
                next.stage = .sending
                if let condition = state.conditions.removeValue(forKey: ObjectIdentifier(next)) { woken.append(condition) }
            } else {
                state.senders -= 1
            }
            return woken
        }
        woken.forEach { $0.signal() }
    }

    /// The jobs of one batch, in queue order, `sender` first when no other sender took it already.
    private func takeBatch(_ state: inout State, sender: Job) -> [Job] {
        var batch: [Job] = [sender]  // a sender is never in the queue
        var count = 0
        count += sender.commands.count
        sender.stage = .taken
        while let next = state.queue[state.head...].first, count + next.commands.count <= maxBatchCommands {
            _ = state.popFirst()
            next.stage = .taken
            batch.append(next)
            count += next.commands.count
        }
        return batch
    }
}
