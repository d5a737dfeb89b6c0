import ConnectionPool
import Glibc

/// The deadline of the request a worker thread serves, set by `RedisExecutor.offload` for the
/// length of the work: every borrow the work makes for its first attempt waits at most until then,
/// so a request that queued for a worker does not wait a second wait timeout in the pool.
///
/// Threading: per thread (a POSIX thread-specific value); nil on threads that serve no request.
enum RequestDeadline {
    private final class Box {
        let deadline: PoolInstant
        init(_ deadline: PoolInstant) { self.deadline = deadline }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The current thread's request deadline, if it serves a request.
    static var current: PoolInstant? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        return Unmanaged<Box>.fromOpaque(pointer).takeUnretainedValue().deadline
    }

    /// Runs `body` with `deadline` as the current thread's request deadline.
    static func with<Result>(_ deadline: PoolInstant, _ body: () throws -> Result) rethrows -> Result {
        let box = Unmanaged.passRetained(Box(deadline))
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, box.toOpaque())
        defer {
            pthread_setspecific(key, previous)
            box.release()
        }
        return try body()
    }
}
