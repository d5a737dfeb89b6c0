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
    }

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
                state.withLock { state in
                    state.master = address
                    state.preferred = index
                    state.pinnedUntil = nil
                }
                return address
            } catch {
                failures.append("\(sentinel): \(error.message)")
            }
        }
        throw RedisError(.connectFailed, "no Sentinel named a master for '\(settings.masterName)': " + failures.joined(separator: "; "))
    }

    /// Records `address` as the master (e.g. from a `+switch-master` message); true if it changed.
    @discardableResult
    public func update(_ address: ServerAddress) -> Bool {
        state.withLock { state in
            defer {
                state.master = address
                state.pinnedUntil = nil
            }
            return state.master != address
        }
    }

    /// A failover began (`+selected-slave`): `promoted` is about to become the master. From now until
    /// the switch is announced (or `limit` passes, if the failover is abandoned) connections go only
    /// to it — never back to the old master, whose writes the promotion would discard.
    public func failoverStarted(promoting promoted: ServerAddress, limit: Duration = .seconds(30)) {
        let until = clock.now + limit
        state.withLock { state in
            state.master = promoted
            state.pinnedUntil = until
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
