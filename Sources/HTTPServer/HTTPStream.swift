import Synchronization

/// The body of a response that does not end when the handler answers (Server-Sent Events): bytes
/// are queued from any thread and written as the client takes them. While nothing is queued the
/// connection is suspended, so an open stream holds no worker thread.
///
/// Bounded: at most `capacity` bytes wait unsent; `send` refuses more (`.full`) and the owner
/// decides what to do (typically `finish(with:)` a final notice and let the client go).
///
/// Threading: every method may be called from any thread. Lifecycle: open until `finish` has been
/// called and everything queued was written, or until the connection ends (client gone, server
/// stopped); then `onClose` runs once, on whichever thread noticed.
public final class HTTPStream: Sendable {
    /// What became of bytes given to `send`.
    public enum SendResult: Sendable, Equatable {
        /// Queued; written as the client reads.
        case queued
        /// Refused: queuing them would exceed `capacity` (a slow consumer).
        case full
        /// Refused: the stream is finishing or the connection has ended.
        case closed
    }

    /// What the connection should do next (the daemon's side of the stream).
    enum Next {
        /// Write this many bytes, copied into the buffer given.
        case bytes(Int)
        /// Nothing to write now: the connection has been suspended and will be resumed.
        case wait
        /// Everything was written after `finish`: end the response.
        case end
    }

    private struct State {
        var pending: [UInt8] = []
        var written = 0
        var finishing = false
        var closed = false
        /// Set while the connection is suspended waiting for bytes; resumes it.
        var wake: (@Sendable () -> Void)?
        var onClose: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    /// Most bytes queued and not yet written.
    public let capacity: Int

    /// A stream that holds at most `capacity` unsent bytes.
    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Queues `bytes` unless that would exceed `capacity` or the stream is ending.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> SendResult {
        state.withLock { state in
            if state.closed || state.finishing { return .closed }
            if state.pending.count - state.written + bytes.count > capacity { return .full }
            state.pending.append(contentsOf: bytes)
            wakeUp(&state)
            return .queued
        }
    }

    /// Queues `bytes` past the capacity (a final notice), then ends the stream once all is written.
    /// Only the first call counts.
    public func finish(with bytes: [UInt8] = []) {
        state.withLock { state in
            if state.closed || state.finishing { return }
            state.pending.append(contentsOf: bytes)
            state.finishing = true
            wakeUp(&state)
        }
    }

    /// Runs `handler` once when the connection has ended (at once if it already has).
    public func onClose(_ handler: @escaping @Sendable () -> Void) {
        let closed = state.withLock { state in
            if state.closed { return true }
            state.onClose = handler
            return false
        }
        if closed { handler() }
    }

    /// True once the connection has ended.
    public var isClosed: Bool {
        state.withLock { $0.closed }
    }

    // MARK: The daemon's side

    /// Copies queued bytes into `buffer`; with none queued, runs `suspend` (under the lock, so a
    /// `send` cannot slip between the check and the suspension) and keeps `resume` for the next send.
    func next(into buffer: UnsafeMutableRawBufferPointer, suspend: () -> Void, resume: @escaping @Sendable () -> Void) -> Next {
        state.withLock { state in
            let available = state.pending.count - state.written
            if available > 0 {
                let count = min(available, buffer.count)
                state.pending.withUnsafeBytes { source in
                    buffer.baseAddress!.copyMemory(from: source.baseAddress! + state.written, byteCount: count)
                }
                state.written += count
                if state.written == state.pending.count {
                    // An idle stream keeps at most a small buffer: 10,000 streams must not each hold
                    // the high-water mark of a burst.
                    state.pending.removeAll(keepingCapacity: state.pending.capacity <= 256)
                    state.written = 0
                } else if state.written >= 64 * 1024 {
                    state.pending.removeFirst(state.written)
                    state.written = 0
                }
                return .bytes(count)
            }
            if state.finishing || state.closed { return .end }
            state.wake = resume
            suspend()
            return .wait
        }
    }

    /// The connection ended: later sends are refused, queued bytes dropped, `onClose` runs.
    func connectionEnded() {
        let handler = state.withLock { state -> (@Sendable () -> Void)? in
            state.closed = true
            state.pending = []
            state.written = 0
            state.wake = nil
            defer { state.onClose = nil }
            return state.onClose
        }
        handler?()
    }

    /// Resumes a suspended connection (under the lock, so it never overtakes the suspension).
    private func wakeUp(_ state: inout State) {
        if let wake = state.wake {
            state.wake = nil
            wake()
        }
    }
}
