public import ConnectionPool

extension RedisConnection: PooledConnection {
    /// Reusable unless broken or holding unread bytes (a late reply must never reach the next user).
    public var isReusable: Bool {
        !isBroken && !hasUnreadBytes
    }

    /// PINGs within `timeout` (capped by the socket timeout), then restores the socket timeout.
    public func checkHealth(timeout: Duration) -> Bool {
        let limited = min(timeout, options.socketTimeout)
        if limited < options.socketTimeout { setSocketTimeout(limited) }
        defer { if limited < options.socketTimeout { setSocketTimeout(options.socketTimeout) } }
        guard let reply = try? send(RedisCommand("PING")) else { return false }
        return reply == .status("PONG")
    }
}
