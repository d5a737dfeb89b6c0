import Crypto
import Foundation
import Synchronization

/// What the gateway remembers of scripts it rewrote (`ScriptShebang`): the SHA1 a client computes is
/// that of its own text, Redis knows the rewritten one. A bounded map from the client's digest to
/// Redis' lets EVALSHA, SCRIPT EXISTS and SCRIPT LOAD answer as if the original had been loaded.
///
/// The map is cleared by SCRIPT FLUSH; an entry is dropped when Redis answers NOSCRIPT for it (after
/// a Redis restart), so the client sends EVAL again, as it would against Redis directly.
///
/// Threading: shared by every worker thread; one lock guards the map.
final class ScriptDigests: Sendable {
    private struct State {
        var loaded: [String: String] = [:]
        var order: [String] = []
    }

    private let capacity: Int
    private let state = Mutex(State())

    /// A map of at most `capacity` scripts (the oldest forgotten first).
    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The lower-case hex SHA1 of `bytes`, as Redis names scripts.
    static func digest(_ bytes: [UInt8]) -> String {
        Insecure.SHA1.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Remembers that the script the client knows as `original` runs in Redis as `rewritten`.
    func remember(original: String, rewritten: String) {
        state.withLock { state in
            if state.loaded.updateValue(rewritten, forKey: original) == nil { state.order.append(original) }
            if state.order.count > capacity {
                let forgotten = state.order.removeFirst()
                state.loaded[forgotten] = nil
            }
        }
    }

    /// Redis' digest for the client's `digest`, when the gateway rewrote that script.
    func rewritten(for digest: String) -> String? {
        state.withLock { $0.loaded[digest.lowercased()] }
    }

    /// Redis no longer has the script the client knows as `digest`.
    func forget(_ digest: String) {
        state.withLock { state in
            guard state.loaded.removeValue(forKey: digest.lowercased()) != nil else { return }
            state.order.removeAll { $0 == digest.lowercased() }
        }
    }

    /// Redis' script cache was flushed.
    func forgetAll() {
        state.withLock { $0 = State() }
    }
}
