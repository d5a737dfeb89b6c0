#if canImport(Glibc)
    import Glibc
#endif

/// Polls `condition` every millisecond until it holds or `timeout` passes; true when it held.
/// For waiting on background work (a probe, a refill) whose completion has no event to wait on.
public func eventually(within timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}
