import ConnectionPool
import Logging
import RedisClient
import Synchronization

/// Keeps the pool pointed at the current Redis master when the gateway runs behind Sentinels:
/// the `SentinelWatcher` reports `+switch-master`, and requests that saw `READONLY` or a broken
/// connection make it ask the Sentinels again (at most every 100 ms). When the master moved, every
/// pooled connection to the old one is closed (idle ones now, lent ones when they come back), and
/// `onMove` runs (the subscription connection reconnects).
///
/// Lifecycle: `start()` after the pool exists, `stop()` at shutdown. Threading: any thread; the
/// Sentinel lookups run on the one `sentinel-lookup` thread, never on the caller's (a request's
/// I/O thread serves other requests).
final class FailoverFollower: Sendable {
    private let locator: MasterLocator
    private let pool: RedisConnectionPool
    private let logger: Logger
    private let watcher: SentinelWatcher
    private let lastCheck = Mutex<ContinuousClock.Instant?>(nil)
    /// The thread that asks the Sentinels on `suspect`'s behalf; a lookup not started within a
    /// second is dropped (a later suspicion asks again).
    private let lookups = BlockingWorkers(name: "sentinel-lookup", limit: 1, startTimeout: .seconds(1))

    private let onMove: @Sendable () -> Void

    init(locator: MasterLocator, pool: RedisConnectionPool, logger: Logger, onMove: @escaping @Sendable () -> Void = {}) {
        self.locator = locator
        self.pool = pool
        self.logger = logger
        self.onMove = onMove
        self.watcher = SentinelWatcher(locator: locator) { address in
            logger.notice("Sentinel announced a new master: closing connections to the old one", metadata: ["master": "\(address)"])
            pool.invalidateAll()
            onMove()
        }
    }

    func start() { watcher.start() }

    func stop() {
        watcher.stop()
        lookups.stop()
    }

    /// A request saw something a failover causes (`reason`): ask the Sentinels, follow a move.
    func suspect(_ reason: String) {
        let clock = ContinuousClock()
        let due = lastCheck.withLock { last in
            guard last.map({ clock.now - $0 >= .milliseconds(100) }) ?? true else { return false }
            last = clock.now
            return true
        }
        guard due else { return }
        lookups.run { [self] started in
            guard started else { return }
            let before = locator.knownMaster
            guard let now = try? locator.resolve(), now != before else { return }
            logger.notice("the master moved: closing connections to the old one", metadata: ["master": "\(now)", "seen": "\(reason)"])
            pool.invalidateAll()
            onMove()
        }
    }
}
