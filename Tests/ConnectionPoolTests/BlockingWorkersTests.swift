import ConnectionPool
import Dispatch
import Glibc
import Synchronization
import TestSupport
import Testing

/// The threads for waiting work, with real threads and semaphores (no sleeps).
@Suite struct BlockingWorkersTests {
    @Test func workRunsOnAThreadOfItsOwnAndThreadsAreReused() {
        let workers = BlockingWorkers(name: "test", limit: 4, startTimeout: .seconds(5))
        defer { workers.stop() }
        let caller = pthreadSelf()
        for _ in 0..<20 {
            let done = DispatchSemaphore(value: 0)
            let ran = Mutex<(started: Bool, other: Bool)?>(nil)
            workers.run { started in
                ran.withLock { $0 = (started, pthreadSelf() != caller) }
                done.signal()
            }
            #expect(done.wait(timeout: .now() + 5) == .success)
            #expect(ran.withLock { $0 }.map { $0.started && $0.other } == true)
            #expect(eventually { workers.idleThreadCount == workers.threadCount })
        }
        #expect(workers.threadCount == 4, "the set is fixed: no thread starts or ends per job")
    }

    @Test func busyThreadsAreNotExceededAndWorkThatCannotStartInTimeIsRefused() {
        let workers = BlockingWorkers(name: "test", limit: 2, startTimeout: .milliseconds(200))
        defer { workers.stop() }
        let release = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        queueHoldingJobs(2, on: workers, running: holding, release: release)
        #expect(holding.wait(timeout: .now() + 5) == .success && holding.wait(timeout: .now() + 5) == .success)
        let late = DispatchSemaphore(value: 0)
        let outcome = Mutex<Bool?>(nil)
        let clock = ContinuousClock()
        let start = clock.now
        workers.run { started in
            outcome.withLock { $0 = started }
            late.signal()
        }
        #expect(workers.threadCount == 2, "the limit holds while both threads are busy")
        // The third job waits for a thread; the busy ones free up only after its start timeout.
        #expect(late.wait(timeout: .now() + 0.4) == .timedOut)
        release.signal()
        release.signal()
        #expect(late.wait(timeout: .now() + 5) == .success)
        #expect(outcome.withLock { $0 } == false, "it waited past its start timeout, so it must not run")
        #expect(clock.now - start >= .milliseconds(200))
    }

    /// The queue never drains under steady load; a job that ran must still be freed then (it
    /// holds its request's body: kept, they grew the gateway by 10 KiB per request under load).
    @Test func aJobThatRanIsFreedWhileTheQueueStaysBusy() {
        let workers = BlockingWorkers(name: "test", limit: 1, startTimeout: .seconds(5))
        defer { workers.stop() }
        let release = DispatchSemaphore(value: 0)
        let running = DispatchSemaphore(value: 0)
        queueHoldingJobs(1, on: workers, running: running, release: release)
        #expect(running.wait(timeout: .now() + 5) == .success)
        let freed = DispatchSemaphore(value: 0)
        let ran = DispatchSemaphore(value: 0)
        queueJobHolding(FreedSignal(freed), on: workers, ran: ran)
        queueHoldingJobs(2, on: workers, running: running, release: release)
        release.signal()
        #expect(ran.wait(timeout: .now() + 5) == .success)
        #expect(running.wait(timeout: .now() + 5) == .success, "the next holder runs; one more still waits in the queue")
        #expect(freed.wait(timeout: .now() + 5) == .success, "the job that ran is no longer referenced by the queue")
        release.signal()
        release.signal()
    }

    @Test func concurrentWorkRunsOnTheFixedSetAndTheRestQueues() {
        let workers = BlockingWorkers(name: "test", limit: 3, startTimeout: .seconds(5))
        defer { workers.stop() }
        let release = DispatchSemaphore(value: 0)
        let running = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        queueHoldingJobs(6, on: workers, running: running, release: release, finished: finished)
        for _ in 0..<3 { #expect(running.wait(timeout: .now() + 5) == .success) }
        #expect(running.wait(timeout: .now() + 0.1) == .timedOut, "three run at once, the rest queue")
        #expect(workers.threadCount == 3)
        for _ in 0..<6 { release.signal() }
        for _ in 0..<6 { #expect(finished.wait(timeout: .now() + 5) == .success) }
        #expect(workers.threadCount == 3)
    }

    @Test func workAfterStopIsRefused() {
        let workers = BlockingWorkers(name: "test", limit: 2, startTimeout: .seconds(5))
        workers.stop()
        let outcome = Mutex<Bool?>(nil)
        workers.run { started in outcome.withLock { $0 = started } }
        #expect(outcome.withLock { $0 } == false)
    }
}

/// Queues `count` jobs that each expect to start, signal `running`, wait for `release`, then signal
/// `finished`.
private func queueHoldingJobs(
    _ count: Int, on workers: BlockingWorkers, running: DispatchSemaphore, release: DispatchSemaphore,
    finished: DispatchSemaphore? = nil
) {
    for _ in 0..<count {
        workers.run { started in
            #expect(started)
            running.signal()
            release.wait()
            finished?.signal()
        }
    }
}

/// Queues a job whose closure is the only reference to `payload`.
private func queueJobHolding(_ payload: FreedSignal, on workers: BlockingWorkers, ran: DispatchSemaphore) {
    workers.run { _ in payload.touch(ran) }
}

/// Signals its semaphore when freed; `touch` keeps a closure's reference to it.
private final class FreedSignal: Sendable {
    private let freed: DispatchSemaphore
    init(_ freed: DispatchSemaphore) { self.freed = freed }
    func touch(_ ran: DispatchSemaphore) { ran.signal() }
    deinit { freed.signal() }
}

private func pthreadSelf() -> UInt {
    UInt(pthread_self())
}
