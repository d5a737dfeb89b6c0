public import ConnectionPool

/// Opens `RedisConnection`s for a `ConnectionPool`: to the configured address, or — with Sentinels —
/// to the master they name, verified with `ROLE` (a node that answers `slave` is closed, never lent).
public struct RedisConnectionFactory: ConnectionFactory {
    /// The options every connection is opened with.
    public let options: RedisConnectionOptions
    /// Finds the master when `options.url` names Sentinels; nil otherwise.
    public let locator: MasterLocator?

    /// A factory opening connections with `options`; a `MasterLocator` is made when the URL names Sentinels.
    public init(options: RedisConnectionOptions) {
        self.options = options
        self.locator = options.url.sentinel.map { MasterLocator(settings: $0, timeout: options.connectTimeout, tls: options.tls) }
    }

    /// Connects within the configured connect timeout. With Sentinels: to the master last found; if
    /// that fails or is no master, the Sentinels are asked again and the answer is tried once.
    /// With cluster seeds (the subscription connection on a cluster): the first seed that answers.
    public func makeConnection() throws -> RedisConnection {
        if let seeds = options.url.cluster {
            var lastError = RedisError(.connectFailed, "no cluster seed")
            for seed in seeds {
                do {
                    return try RedisConnection.connect(options: options.at(seed))
                } catch {
                    lastError = error
                }
            }
            throw lastError
        }
        guard let locator else { return try RedisConnection.connect(options: options) }
        let known = try locator.master()
        do {
            return try connectToMaster(at: known)
        } catch {
            let fresh = try locator.resolve()
            return try connectToMaster(at: fresh)
        }
    }

    /// A connection outside the pool for the gateway's own commands to a Redis that may be busy
    /// running a script, where Redis answers only AUTH and the kill commands: AUTH only (no SELECT,
    /// no CLIENT SETNAME, no ROLE check), to the address the pool dials (with Sentinels, the master
    /// last found; with cluster seeds, the first). Every read waits up to `patience`: a busy Redis
    /// answers even AUTH only once the script has run `busy-reply-threshold`.
    public func bareConnection(patience: Duration) throws -> RedisConnection {
        var target = options
        target.socketTimeout = patience
        if let seed = options.url.cluster?.first {
            target = options.at(seed)
        } else if let locator {
            let address = try locator.master()
            target.url.sentinel = nil
            target.url.host = address.host
            target.url.port = address.port
        }
        target.clientName = nil
        target.url.database = 0
        return try RedisConnection.connect(options: target)
    }

    /// A dial that connected but timed out waiting for an answer (handshake, ROLE) met a stalled
    /// Redis; every other failure (refused, reset, unreachable, refused handshake) an unreachable one.
    public func classify(_ error: any Error) -> DialFailure {
        (error as? RedisError)?.kind == .timeout ? .stalled : .unreachable
    }

    private func connectToMaster(at address: ServerAddress) throws(RedisError) -> RedisConnection {
        var target = options
        target.url.sentinel = nil
        target.url.host = address.host
        target.url.port = address.port
        let connection = try RedisConnection.connect(options: target)
        let role: RedisValue
        do {
            role = try connection.send(RedisCommand("ROLE"))
        } catch {
            connection.close()
            throw error
        }
        guard case .array(let parts) = role, parts.first?.text == "master" else {
            connection.close()
            locator?.forget()
            let named = (role.arrayFirstText ?? role.errorMessage ?? "no role")
            throw RedisError(.handshakeFailed, "\(address) is not the master (ROLE: \(named))")
        }
        return connection
    }
}

extension RedisValue {
    fileprivate var arrayFirstText: String? {
        if case .array(let parts) = self { return parts.first?.text }
        return nil
    }
}

/// The pool type the gateway uses.
public typealias RedisConnectionPool = ConnectionPool<RedisConnectionFactory>
