/// Whether the pool can currently open connections.
public enum PoolAvailability: Sendable, Equatable {
    /// The last dial succeeded (or none failed yet).
    case up
    /// Dials fail since `since`; `lastError` is the most recent failure. Borrowers that find no idle
    /// connection fail at once until a background probe succeeds.
    case down(since: PoolInstant, lastError: String)
}
