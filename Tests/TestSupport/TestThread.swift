import Foundation

/// A real OS thread that can be joined: blocking tests need true parallel threads, not a
/// dispatch queue whose width may be limited to the core count.
public final class TestThread: @unchecked Sendable {
    private let thread: Thread
    private let done = DispatchSemaphore(value: 0)

    /// A thread that will run `body` once started.
    public init(_ body: @escaping @Sendable () -> Void) {
        let done = self.done
        thread = Thread {
            body()
            done.signal()
        }
        thread.stackSize = 1 << 20
    }

    /// Starts the thread.
    public func start() {
        thread.start()
    }

    /// Waits until the body has returned.
    public func join() {
        done.wait()
    }
}
