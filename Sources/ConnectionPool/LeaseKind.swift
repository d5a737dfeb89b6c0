/// How a borrower holds a connection: alone, or beside others on the same connection.
///
/// The pool decides both kinds in one state machine (`PoolStateMachine`), under one bound
/// (`maxConnections`), one waiting queue and one deadline per borrow.
public enum LeaseKind: Hashable, Sendable {
    /// The connection is the borrower's alone until it gives it back (transactions, batches,
    /// blocking commands, anything that changes the connection's state).
    case exclusive
    /// The connection carries other shared leases of the same `group` at the same time, up to
    /// `maxStreamsPerConnection` streams in flight (a stream is one unit of work, e.g. a command
    /// pipelined behind the others). Groups never share a connection: a group held back by the
    /// server (writes under `CLIENT PAUSE WRITE`) never holds back another (reads).
    case shared(group: Int)
}
