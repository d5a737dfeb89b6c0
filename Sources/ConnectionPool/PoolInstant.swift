#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A point on the monotonic clock (CLOCK_MONOTONIC), in nanoseconds since an arbitrary origin.
///
/// The state machine takes instants as plain values so its tests can move time by hand.
public struct PoolInstant: Comparable, Hashable, Sendable {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: Int64

    /// An instant at `nanoseconds` from the clock's origin.
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The current monotonic time.
    public static func now() -> PoolInstant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return PoolInstant(nanoseconds: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }

    /// This instant moved by `duration`.
    public func advanced(by duration: Duration) -> PoolInstant {
        PoolInstant(nanoseconds: nanoseconds &+ duration.nanosecondsClamped)
    }

    /// The time from `earlier` to this instant.
    public func duration(since earlier: PoolInstant) -> Duration {
        .nanoseconds(nanoseconds - earlier.nanoseconds)
    }

    public static func < (lhs: PoolInstant, rhs: PoolInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `Int64`'s range.
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return scaled &+ attoseconds / 1_000_000_000
    }
}
