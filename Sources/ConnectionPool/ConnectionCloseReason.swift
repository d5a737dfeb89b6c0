/// Why the pool closed a connection (the `reason` label of the closed-connections counter).
public enum ConnectionCloseReason: String, Sendable, CaseIterable {
    /// The borrower returned it broken: an I/O error, a protocol error or unread bytes.
    case broken
    /// The borrower returned it after a command timed out: Redis may answer later, so the
    /// connection cannot be reused, but Redis is stalled rather than gone.
    case timedOut = "timed_out"
    /// The borrower returned it possibly changed (a database, transaction, subscription, MONITOR,
    /// reply mode, name or user other than every borrower is promised): never lent again.
    case stateChanged = "state_changed"
    /// Its health check (PING) failed before it could be lent.
    case healthCheckFailed = "health_check_failed"
    /// It reached its (jittered) `maxLifetime`.
    case expired
    /// It sat idle longer than `idleTimeout` while more than `minIdle` were idle.
    case idleTimeout = "idle_timeout"
    /// `invalidateAll()` made it stale (e.g. it points at a Redis that is no longer the master).
    case invalidated
    /// The pool was shut down.
    case shutdown
    /// Closed after one use because the pool is in connection-per-borrow demonstration mode.
    case notReused = "not_reused"
}
