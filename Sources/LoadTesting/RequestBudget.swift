import CoreUtilities
import Synchronization

/// Hands out permission for each request until the count or the deadline runs out; shared by the
/// event-loop threads. Also counts progress for the live line.
final class RequestBudget: Sendable {
    private let issued = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    private let maxRequests: Int
    private let deadline: UInt64

    init(maxRequests: Int?, duration: Duration?, start: UInt64) {
        self.maxRequests = maxRequests ?? Int.max
        let nanos = duration.map { UInt64(max($0.secondsDouble, 0) * 1e9) } ?? UInt64.max / 2
        self.deadline = start &+ nanos
    }

    /// True when one more request may be sent now.
    func take(now: UInt64) -> Bool {
        guard now < deadline else { return false }
        return issued.wrappingAdd(1, ordering: .relaxed).newValue <= maxRequests
    }
}
