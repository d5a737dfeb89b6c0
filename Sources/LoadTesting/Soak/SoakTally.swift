import CoreUtilities
import Foundation
import Synchronization

/// What the soak's callers saw, shared by every thread: answers by status, the failures with the
/// time they happened (judged against the fault windows at the end), and every wrong reply.
final class SoakTally: Sendable {
    /// A request that did not get a 2xx: when (seconds since the start), what, and the status
    /// (0: no answer at all).
    struct Failure: Sendable {
        let at: Double
        let status: Int
        let what: String
    }

    private struct State {
        var statuses: [Int: Int] = [:]
        var failures: [Failure] = []
        var wrongReplies: [String] = []
        var wrongReplyCount = 0
    }

    private let state = Mutex(State())
    /// Requests answered with a 2xx, and all requests, since the start (read by the recorder).
    let succeeded = Atomic<Int>(0)
    let total = Atomic<Int>(0)
    /// Set when the soak ends: every caller and stream stops.
    let stopped = Atomic<Bool>(false)
    private let start: ContinuousClock.Instant

    init(start: ContinuousClock.Instant) {
        self.start = start
    }

    /// Seconds since the soak began.
    func elapsed() -> Double {
        (ContinuousClock.now - start).secondsDouble
    }

    /// Counts one answer (status 0: none); a non-2xx is kept with its time.
    func record(status: Int, what: @autoclosure () -> String) {
        total.add(1, ordering: .relaxed)
        if (200..<300).contains(status) {
            succeeded.add(1, ordering: .relaxed)
            state.withLock { $0.statuses[status, default: 0] += 1 }
            return
        }
        let failure = Failure(at: elapsed(), status: status, what: what())
        state.withLock { state in
            state.statuses[status, default: 0] += 1
            state.failures.append(failure)
        }
    }

    /// A reply that is not what the caller wrote (the soak's one unforgivable outcome).
    func wrongReply(_ description: String) {
        state.withLock { state in
            state.wrongReplyCount += 1
            if state.wrongReplies.count < 20 { state.wrongReplies.append(String(format: "%.1f s: ", elapsed()) + description) }
        }
    }

    /// Answers by status so far.
    var statuses: [Int: Int] { state.withLock { $0.statuses } }
    /// Every non-2xx so far.
    var failures: [Failure] { state.withLock { $0.failures } }
    /// The number of wrong replies, and the first 20.
    var wrong: (count: Int, first: [String]) { state.withLock { ($0.wrongReplyCount, $0.wrongReplies) } }
}
