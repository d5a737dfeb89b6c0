import ConnectionPool
import RedisClient

/// The shared-lease I/O of one pool: one `SharedConnectionIO` per group of `LeasePolicy` (reads,
/// writes), each with its own threads, so a write Redis holds back never stalls the reads.
struct SharedIOPair: Sendable {
    let reads: SharedConnectionIO
    let writes: SharedConnectionIO

    /// `threads` I/O threads per group on `pool`; nil when `threads` is 0 (every request then takes
    /// an exclusive lease on a worker thread).
    init?(pool: RedisConnectionPool, threads: Int) {
        guard threads > 0 else { return nil }
        reads = SharedConnectionIO(pool: pool, group: LeasePolicy.reads, name: "reads", threads: threads)
        writes = SharedConnectionIO(pool: pool, group: LeasePolicy.writes, name: "writes", threads: threads)
    }

    /// The I/O of `group`.
    subscript(group: Int) -> SharedConnectionIO {
        group == LeasePolicy.reads ? reads : writes
    }

    func stop() {
        reads.stop()
        writes.stop()
    }
}
