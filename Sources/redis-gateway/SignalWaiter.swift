#if canImport(Glibc)
    import Glibc
#endif

/// Blocks the given signals in this thread (and every thread started after it), so that `wait()`
/// can receive them synchronously with sigwait: no async signal handler runs.
struct SignalWaiter {
    private var set = sigset_t()

    /// Blocks `signals`; create this before starting any other thread.
    init(signals: [Int32]) {
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits until one of the signals arrives and returns it, or nil after `seconds`.
    func wait(seconds: Int) -> Int32? {
        var waitSet = set
        var timeout = timespec(tv_sec: seconds, tv_nsec: 0)
        let received = sigtimedwait(&waitSet, nil, &timeout)
        return received > 0 ? received : nil
    }
}
