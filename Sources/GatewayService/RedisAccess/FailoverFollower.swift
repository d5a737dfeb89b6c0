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
/// Lifecycle: `start()` after the pool exists, `stop()` at shutdown. Threading: any thread.
final class FailoverFollower: Sendable {
    private let locator: MasterLocator
    private let pool: RedisConnectionPool
    private let logger: Logger
    private let watcher: SentinelWatcher
    private let lastCheck = Mutex<ContinuousClock.Instant?>(nil)

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

    func stop() { watcher.stop() }

    /// A request saw something a failover causes (`reason`): ask the Sentinels, follow a move.
    func suspect(_ reason: String) {
        let clock = ContinuousClock()
        let due = lastCheck.withLock { last in
            guard last.map({ clock.now - $0 >= .milliseconds(100) }) ?? true else { return false }
            last = clock.now
            return true
        }
        guard due else { return }
        let before = locator.knownMaster
        guard let now = try? locator.resolve(), now != before else { return }
        logger.notice("the master moved: closing connections to the old one", metadata: ["master": "\(now)", "seen": "\(reason)"])
        pool.invalidateAll()
        onMove()
    }
}
