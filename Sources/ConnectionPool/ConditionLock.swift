#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value guarded by a pthread mutex, with condition variables whose timed waits run on the
/// monotonic clock (a wall-clock jump never shortens or stretches a pool wait).
///
/// Threading: this is the pool's one `@unchecked Sendable` piece. Every access to `value` goes
/// through `withLock` or `wait`, with the mutex held.
public final class ConditionLock<Value>: @unchecked Sendable {
    /// A condition variable tied to this lock. Create one per waiting thread.
    public final class Condition: @unchecked Sendable {
        fileprivate let cond: UnsafeMutablePointer<pthread_cond_t>

        fileprivate init() {
            cond = .allocate(capacity: 1)
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            #if os(Linux)
                pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            #endif
            pthread_cond_init(cond, &attributes)
            pthread_condattr_destroy(&attributes)
        }

        deinit {
            pthread_cond_destroy(cond)
            cond.deallocate()
        }

        /// Wakes the thread waiting on this condition, if any.
        public func signal() {
            pthread_cond_signal(cond)
        }

        /// Wakes every thread waiting on this condition.
        public func broadcast() {
            pthread_cond_broadcast(cond)
        }
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    /// A lock guarding `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the lock held.
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// A new condition variable for this lock.
    public func makeCondition() -> Condition {
        Condition()
    }

    /// Waits on `condition` until `poll` returns a non-nil result, or until `deadline` (monotonic),
    /// when `timedOut` gives the result. Takes the lock itself; `poll` and `timedOut` run with it held.
    ///
    /// No access to the value spans the wait: each closure gets its own short `inout` access, so
    /// the compiler never assumes the value unchanged while other threads held the lock. Spurious
    /// wake-ups simply poll again; a signal that raced the deadline is still seen by one last poll.
    public func wait<Result>(
        on condition: Condition,
        until deadline: PoolInstant,
        poll: (inout Value) -> Result?,
        timedOut: (inout Value) -> Result
    ) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let nanos = max(deadline.nanoseconds, 0)
        var spec = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
        while true {
            if let result = poll(&value) { return result }
            if pthread_cond_timedwait(condition.cond, mutex, &spec) == ETIMEDOUT {
                if let result = poll(&value) { return result }
                return timedOut(&value)
            }
        }
    }
}
