public import ConnectionPool
import Foundation
public import RedisClient

/// The service's one way to talk to Redis: borrow from the shared pool, run commands, give the
/// connection back, re-send what `RetryPolicy` says is safe to re-send, and turn every failure
/// into a `GatewayError`.
///
/// Threading: shared by all worker threads; each call borrows its own connection.
public struct RedisAccess: Sendable {
    /// The shared pool.
    public let pool: RedisConnectionPool
    /// When a failed request is sent again.
    public let retry: RetryPolicy
    private let onResend: @Sendable (RedisError) -> Void

    /// Access through `pool`, re-sending per `retry`; `onResend` is told of each re-send (metrics).
    public init(
        pool: RedisConnectionPool, retry: RetryPolicy = RetryPolicy(), onResend: @escaping @Sendable (RedisError) -> Void = { _ in }
    ) {
        self.pool = pool
        self.retry = retry
        self.onResend = onResend
    }

    /// Sends `commands` as one pipeline on one borrowed connection and returns their replies.
    /// `label` names the caller (the route) in leak reports.
    public func pipeline(_ commands: [RedisCommand], label: String) throws(GatewayError) -> [RedisValue] {
        var attempt = 1
        while true {
            do {
                return try pool.withConnection(label: label) { connection throws(RedisError) in
                    try connection.pipeline(commands)
                }
            } catch {
                switch error {
                case .pool(let poolError):
                    throw .pool(poolError)
                case .operation(let redisError):
                    guard retry.allowsResend(of: commands, after: redisError, attempt: attempt) else { throw .redis(redisError) }
                    onResend(redisError)
                    Thread.sleep(forTimeInterval: retry.delay(beforeResend: attempt, jitter: .random(in: 0..<1)).secondsDouble)
                    attempt += 1
                }
            }
        }
    }

    /// Sends one command and returns its reply; an error reply throws `.redisReply`.
    public func send(_ command: RedisCommand, label: String) throws(GatewayError) -> RedisValue {
        let reply = try pipeline([command], label: label)[0]
        if let message = reply.errorMessage { throw .redisReply(message) }
        return reply
    }
}
