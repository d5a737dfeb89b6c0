import class Foundation.Thread

/// Starts detached threads for the pool's background work (dials and maintenance), which must not
/// run on Swift's cooperative pool: they block on sockets and condition variables.
public enum PoolThread {
    /// Runs `body` on a new detached thread named `name`.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.stackSize = 512 * 1024
        thread.start()
    }
}
