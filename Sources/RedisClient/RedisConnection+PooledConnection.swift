public import ConnectionPool

extension RedisConnection: PooledConnection {
    /// Reusable unless broken, holding unread bytes (a late reply must never reach the next user),
    /// or possibly in another state than the one every user is promised (`changedState`).
    public var isReusable: Bool {
        !isBroken && !hasUnreadBytes && !changedState
    }

    /// True when the last failure was a socket timeout: Redis is slow, the socket still open.
    public var failedByTimeout: Bool {
        lastFailure == .timeout
    }

    /// PINGs within `timeout` — the borrower's whole remaining deadline, which may be longer than the
    /// socket timeout, so a Redis that stalls briefly is waited for — then restores the socket timeout.
    public func checkHealth(timeout: Duration) -> Bool {
        let changed = timeout != options.socketTimeout
        if changed { setSocketTimeout(timeout) }
        defer { if changed { setSocketTimeout(options.socketTimeout) } }
        guard let reply = try? send(RedisCommand("PING")) else { return false }
        return reply == .status("PONG")
    }
}
