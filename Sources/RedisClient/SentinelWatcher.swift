import Synchronization

import class Foundation.Thread

#if canImport(Glibc)
    import Glibc
#endif

/// Follows failovers as they happen, subscribed on one Sentinel at a time:
/// - `+selected-slave` (a failover chose the replica to promote): the `MasterLocator` is pinned to
///   that replica and `onSwitch` is called at once, so no new request goes to the old master, whose
///   writes from now on the promotion would discard;
/// - `+switch-master` (the failover ended): the locator records the new master, `onSwitch` again.
/// Each time it (re)connects it also asks for the master, so a switch announced while it was away
/// is not missed.
///
/// Lifecycle: `start()` runs it on its own thread; `stop()` ends it within one `pollInterval`.
public final class SentinelWatcher: Sendable {
    private let locator: MasterLocator
    private let pollInterval: Duration
    private let onSwitch: @Sendable (ServerAddress) -> Void
    private let stopped = Atomic<Bool>(false)

    /// A watcher updating `locator`; `onSwitch` gets the new master's address. `pollInterval` bounds
    /// each wait for a message (the subscription is renewed after it).
    public init(
        locator: MasterLocator, pollInterval: Duration = .seconds(2), onSwitch: @escaping @Sendable (ServerAddress) -> Void
    ) {
        self.locator = locator
        self.pollInterval = pollInterval
        self.onSwitch = onSwitch
    }

    /// Starts following on a new thread.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "sentinel-watcher"
        thread.start()
    }

    /// Stops following (at the latest one `pollInterval` later).
    public func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    /// How one subscription ended.
    private enum Ending {
        /// No message within `pollInterval`: the Sentinel is there, just quiet.
        case quiet
        /// It could not be reached, or the connection failed.
        case failed
    }

    private func run() {
        var next = 0
        while !stopped.load(ordering: .relaxed) {
            let sentinel = locator.settings.addresses[next % locator.settings.addresses.count]
            // A quiet Sentinel is renewed in place: moving on every poll would ask Sentinels that
            // may not have heard of a switch yet, for nothing.
            if listen(to: sentinel) == .quiet { continue }
            next += 1
            if !stopped.load(ordering: .relaxed) { usleep(100_000) }  // a Sentinel down: next one, not a busy loop
        }
    }

    /// One subscription: checks the master, then handles messages until the connection times out or breaks.
    private func listen(to sentinel: ServerAddress) -> Ending {
        var options = locator.sentinelOptions(sentinel)
        options.socketTimeout = pollInterval
        guard let connection = try? RedisConnection.connect(options: options) else { return .failed }
        defer { connection.close() }
        let name = locator.settings.masterName
        if let master = try? locator.queryMaster(on: connection) { announce(master) }
        // One reply per channel subscribed.
        guard (try? connection.pipeline([RedisCommand("SUBSCRIBE", "+switch-master", "+selected-slave")])) != nil,
            (try? connection.receive()) != nil
        else { return .failed }
        while !stopped.load(ordering: .relaxed) {
            let message: RedisValue
            do {
                message = try connection.receive()
            } catch {
                return error.kind == .timeout ? .quiet : .failed  // renew
            }
            guard case .array(let parts) = message, parts.count == 3, let channel = parts[1].text, let payload = parts[2].text else {
                continue
            }
            let fields = payload.split(separator: " ")
            switch channel {
            case "+switch-master":
                // "<name> <old-ip> <old-port> <new-ip> <new-port>"
                guard fields.count == 5, fields[0] == name, let port = Int(fields[4]) else { continue }
                announce(ServerAddress(host: String(fields[3]), port: port))
            case "+selected-slave":
                // "slave <ip:port> <ip> <port> @ <name> <master-ip> <master-port>"
                guard fields.count == 8, fields[5] == name, let port = Int(fields[3]) else { continue }
                let promoted = ServerAddress(host: String(fields[2]), port: port)
                locator.failoverStarted(promoting: promoted)
                onSwitch(promoted)
            default:
                continue
            }
        }
        return .quiet
    }

    private func announce(_ address: ServerAddress) {
        let known = locator.knownMaster
        if locator.update(address), known != nil { onSwitch(address) }
    }
}
