/// A borrow held longer than `leakDetectionThreshold`: reported once per borrow.
public struct LeakReport: Sendable, Equatable {
    /// What borrowed the connection (the label passed to `withConnection`, e.g. the route).
    public let label: String
    /// How long it had been held when detected.
    public let heldFor: Duration

    /// A report that `label` has held a connection for `heldFor`.
    public init(label: String, heldFor: Duration) {
        self.label = label
        self.heldFor = heldFor
    }
}
