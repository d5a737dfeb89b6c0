import Synchronization

/// Set when the gateway begins to shut down, so `/readyz` can tell load balancers to stop sending
/// traffic while requests in flight finish.
///
/// Threading: set once from the shutting-down thread, read from every worker thread.
final class DrainSignal: Sendable {
    private let draining = Atomic<Bool>(false)

    /// True once the drain began.
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Marks the drain as begun.
    func begin() { draining.store(true, ordering: .relaxed) }
}
