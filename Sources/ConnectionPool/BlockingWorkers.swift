/// Threads for work that waits — a borrow and a round trip on a borrowed connection, a database
/// read — so that the threads serving HTTP never wait themselves and can be as few as the cores.
///
/// - A fixed set: all `limit` threads start with the workers and stay, idle ones waiting for the
///   next job. No thread is started per job. Beyond `limit` jobs at once, work queues in arrival order.
/// - Work that cannot start by its deadline (`startTimeout` from its arrival, or the one it brings,
///   e.g. its request's) while every thread is busy is not run: its closure is called with
///   `started == false`, at once on the thread that finds it late, so the caller can answer a
///   timeout as a pool borrow would.
///
/// Threading: `run` from any thread; work runs on one of these threads.
/// Lifecycle: threads end after `stop()`, once the queue is empty.
public final class BlockingWorkers: Sendable {
    /// Called once: `true` on a worker thread when the work may start, `false` when it waited past
    /// its start timeout (or the workers were stopped).
    public typealias Work = @Sendable (_ started: Bool) -> Void

    private struct Job {
        let startBy: PoolInstant
        let work: Work
    }

    private struct State {
        /// Jobs in arrival order from `head`; a taken slot is emptied at once, so a job's closure
        /// (and the request it holds) is freed when it runs, even while the queue never drains.
        var queue: [Job?] = []
        var head = 0
        var threads = 0
        var idle = 0
        var stopped = false
    }

    /// The most threads at once.
    public let limit: Int
    /// How long work may wait for a thread.
    public let startTimeout: Duration
    private let name: String
    private let lock = ConditionLock(State())
    private let ready: ConditionLock<State>.Condition

    /// `limit` threads named `name-N`, started now; work waits at most `startTimeout` for one.
    public init(name: String, limit: Int, startTimeout: Duration) {
        self.name = name
        self.limit = max(1, limit)
        self.startTimeout = startTimeout
        self.ready = lock.makeCondition()
        lock.withLock { $0.threads = self.limit }
        for index in 1...self.limit {
            PoolThread.start(name: "\(name)-\(index)") { [self] in serve() }
        }
    }

    /// The threads running (for statistics and tests).
    public var threadCount: Int { lock.withLock { $0.threads } }
    /// The threads waiting for work now.
    public var idleThreadCount: Int { lock.withLock { $0.idle } }

    /// Runs `work` on a worker thread, or tells it that it could not start by `startBy` (by
    /// default `startTimeout` from now).
    public func run(startBy: PoolInstant? = nil, _ work: @escaping Work) {
        let job = Job(startBy: startBy ?? PoolInstant.now().advanced(by: startTimeout), work: work)
        let accepted = lock.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.queue.append(job)
            return true
        }
        guard accepted else { return work(false) }
        ready.signal()
    }

    /// Ends the threads once the queue is empty; later work is told it did not start.
    public func stop() {
        lock.withLock { $0.stopped = true }
        ready.broadcast()
    }

    private enum Next {
        case job(Job)
        case again
        case stop
    }

    private func serve() {
        while true {
            switch next() {
            case .job(let job): job.work(PoolInstant.now() < job.startBy)
            case .again: continue
            case .stop: return
            }
        }
    }

    /// The oldest queued job; `.stop` once stopped and drained; `.again` after an idle hour.
    private func next() -> Next {
        var waiting = false
        return lock.wait(
            on: ready, until: PoolInstant.now().advanced(by: .seconds(3600)),
            poll: { state -> Next? in
                if state.head < state.queue.count, let job = state.queue[state.head] {
                    if waiting { state.idle -= 1 }
                    state.queue[state.head] = nil
                    state.head += 1
                    if state.head == state.queue.count {
                        state.queue.removeAll(keepingCapacity: true)
                        state.head = 0
                    } else if state.head > 64, state.head * 2 > state.queue.count {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                    return .job(job)
                }
                if state.stopped {
                    if waiting { state.idle -= 1 }
                    state.threads -= 1
                    return .stop
                }
                if !waiting {
                    waiting = true
                    state.idle += 1
                }
                return nil
            },
            timedOut: { state in
                if waiting { state.idle -= 1 }
                return .again
            })
    }
}
