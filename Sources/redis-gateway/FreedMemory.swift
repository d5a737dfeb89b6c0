import CMalloc

/// Gives memory that malloc holds freed back to the system after a burst.
///
/// glibc returns freed memory only from the top of each arena's heap, so after a burst (thousands
/// of connections, batches at 200 connections) the gateway kept its peak RSS for good: 97 MiB,
/// 2.6× idle, 60 s after the load of Benchmarks/memory.sh, with 2 MiB of it in use. `malloc_trim`
/// releases the free pages of every arena. Called every `interval` from the main thread, it trims
/// only once the burst is over: more than `threshold` bytes lie free and they are more than four
/// times what is in use. Under a steady load the freed memory is reused at once, and trimming it
/// then cost about 5 % of `/pipeline` throughput (it was faulted back in at once).
enum FreedMemory {
    static let interval: Int = 10
    static let threshold = 8 << 20

    /// Trims when more than `threshold` freed bytes are held; the bytes that were free, or nil.
    @discardableResult
    static func releaseIfLarge() -> Int? {
        let free = gw_malloc_free_bytes()
        guard free > threshold, free > 4 * gw_malloc_in_use_bytes() else { return nil }
        gw_malloc_trim()
        return free
    }
}
