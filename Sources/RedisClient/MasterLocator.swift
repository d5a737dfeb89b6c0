import Synchronization

/// Finds the current Redis master through Sentinels (`SENTINEL get-master-addr-by-name`) and
/// remembers it; told to look again when a failover is suspected.
///
/// Threading: every method may be called from any thread; the address is kept under a lock and
/// the Sentinels are asked outside it.
public final class MasterLocator: Sendable {
    /// The Sentinels and the master's name.
    public let settings: SentinelSettings
    private let timeout: Duration
    /// TLS to the Sentinels (the same settings as the data nodes'); nil: plain TCP.
    private let tls: RedisTLSCredentials?
    private struct State {
        var master: ServerAddress?
        var preferred = 0
        /// While a failover runs: the replica being promoted, and until when to trust that over
        /// the Sentinels' answer (which names the old master until the failover ends).
        var pinnedUntil: ContinuousClock.Instant?
        /// The master moved away from last, and until when an answer naming it is stale: a
        /// Sentinel that has not yet heard of the switch still names it, and going back would
        /// tear down connections to the new master (and dial a dead one).
        var replaced: (address: ServerAddress, until: ContinuousClock.Instant)?

        /// Whether `address` is the master moved away from less than `staleWindow` ago.
        func isStale(_ address: ServerAddress, at now: ContinuousClock.Instant) -> Bool {
            guard let replaced, replaced.address == address, address != master else { return false }
            return now < replaced.until
        }

        /// Records `address` as the master, remembering the one it replaces.
        mutating func record(_ address: ServerAddress, at now: ContinuousClock.Instant, window: Duration) {
            if let previous = master, previous != address { replaced = (previous, now + window) }
            master = address
        }
    }

    /// How long an answer naming the master moved away from is taken as stale (Sentinels learn of
    /// a switch from each other's hello messages, every 2 s; a new failover of the same master
    /// cannot start within twice the failover timeout, 6 minutes by default).
    static let staleWindow: Duration = .seconds(60)

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// A locator asking the Sentinels in `settings`, each within `timeout`, over TLS with `tls`.
    public init(settings: SentinelSettings, timeout: Duration, tls: RedisTLSCredentials? = nil) {
        self.settings = settings
        self.timeout = timeout
        self.tls = tls
    }

    /// The master last found, or the Sentinels' answer now when none is known.
    public func master() throws(RedisError) -> ServerAddress {
        if let known = state.withLock({ $0.master }) { return known }
        return try resolve()
    }

    /// The master last found, without asking anyone.
    public var knownMaster: ServerAddress? { state.withLock { $0.master } }

    /// Asks the Sentinels (the one that answered last first) for the master now and remembers it.
    /// While a failover is pinned (`failoverStarted`), the replica being promoted is the answer.
    public func resolve() throws(RedisError) -> ServerAddress {
        let now = clock.now
        let (preferred, pinned) = state.withLock { state in
            let isPinned = state.pinnedUntil.map { now < $0 } ?? false
            return (state.preferred, isPinned ? state.master : nil)
        }
        if let pinned { return pinned }
        var failures: [String] = []
        for offset in settings.addresses.indices {
            let index = (preferred + offset) % settings.addresses.count
            let sentinel = settings.addresses[index]
            do {
                let address = try ask(sentinel)
                let accepted = state.withLock { state -> Bool in
                    guard !state.isStale(address, at: clock.now) else { return false }
                    state.record(address, at: clock.now, window: Self.staleWindow)
                    state.preferred = index
                    state.pinnedUntil = nil
                    return true
                }
                guard accepted else {
                    failures.append("\(sentinel): named \(address), the master replaced in a failover (stale)")
                    continue
                }
                return address
            } catch {
                failures.append("\(sentinel): \(error.message)")
            }
        }
        if let known = state.withLock({ $0.master }), !failures.isEmpty, failures.allSatisfy({ $0.hasSuffix("(stale)") }) {
            return known  // every Sentinel that answered is behind the switch: keep the new master
        }
        throw RedisError(.connectFailed, "no Sentinel named a master for '\(settings.masterName)': " + failures.joined(separator: "; "))
    }

    /// Records `address` as the master (e.g. from a `+switch-master` message, or a Sentinel's
    /// answer); true if it changed. An answer naming the master replaced less than `staleWindow`
    /// ago is ignored (false): the Sentinel giving it has not heard of the switch yet.
    @discardableResult
    public func update(_ address: ServerAddress) -> Bool {
        let now = clock.now
        return state.withLock { state in
            guard !state.isStale(address, at: now) else { return false }
            defer {
                state.record(address, at: now, window: Self.staleWindow)
                state.pinnedUntil = nil
            }
            return state.master != address
        }
    }

    /// A failover began (`+selected-slave`): `promoted` is about to become the master. From now until
    /// the switch is announced (or `limit` passes, if the failover is abandoned) connections go only
    /// to it — never back to the old master, whose writes the promotion would discard.
    public func failoverStarted(promoting promoted: ServerAddress, limit: Duration = .seconds(30)) {
        let now = clock.now
        state.withLock { state in
            state.record(promoted, at: now, window: Self.staleWindow)
            state.pinnedUntil = now + limit
        }
    }

    /// Forgets the master, so the next `master()` asks the Sentinels (unless a failover is pinned).
    public func forget() {
        let now = clock.now
        state.withLock { state in
            if state.pinnedUntil.map({ now < $0 }) ?? false { return }
            state.master = nil
        }
    }

    /// Options for a connection to the Sentinel at `address` (its own credentials, no database).
    func sentinelOptions(_ address: ServerAddress) -> RedisConnectionOptions {
        var options = RedisConnectionOptions()
        options.url.host = address.host
        options.url.port = address.port
        options.url.username = settings.username
        options.url.password = settings.password
        options.connectTimeout = timeout
        options.socketTimeout = timeout
        options.clientName = nil
        options.tls = tls
        return options
    }

    private func ask(_ sentinel: ServerAddress) throws(RedisError) -> ServerAddress {
        let connection = try RedisConnection.connect(options: sentinelOptions(sentinel))
        defer { connection.close() }
        return try queryMaster(on: connection)
    }

    /// `SENTINEL get-master-addr-by-name` on an open connection to a Sentinel.
    func queryMaster(on connection: RedisConnection) throws(RedisError) -> ServerAddress {
        let reply = try connection.send(RedisCommand("SENTINEL", "get-master-addr-by-name", settings.masterName))
        guard case .array(let parts) = reply, parts.count == 2, let host = parts[0].text, let port = parts[1].text.flatMap(Int.init) else {
            if let message = reply.errorMessage { throw RedisError(.protocolError, message) }
            throw RedisError(.protocolError, "the Sentinel does not know a master named '\(settings.masterName)'")
        }
        return ServerAddress(host: host, port: port)
    }
}
