import Synchronization

/// The `upstash-sync-token` every response carries: it changes with each write the gateway
/// performs, so a client that sends back the last token it saw is served read-your-writes. With one
/// Redis primary behind one pool every read already follows every acknowledged write; the header
/// keeps the contract the SDKs rely on.
final class SyncToken: Sendable {
    private let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    private let writes = Atomic<UInt64>(0)

    /// Records that a write was performed.
    func recordWrite() {
        writes.add(1, ordering: .relaxed)
    }

    /// The current token.
    var current: String {
        "\(prefix)-\(writes.load(ordering: .relaxed))"
    }
}
