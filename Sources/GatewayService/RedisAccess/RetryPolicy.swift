import ConnectionPool
import CoreUtilities
import RedisClient

/// When a failed Redis request is sent again on a fresh connection, how often, and how long the
/// gateway waits between tries.
///
/// A request is re-sent only when doing so cannot run a write twice:
/// - it is known not to have reached Redis (the connection was found closed before the write, or
///   the write failed before its first byte): any command, even INCR or EVAL;
/// - or every command in it is read-only by the command table (GET, MGET, TTL, EXISTS, HGET, …), or
///   a plain SET without NX/XX/GET when `resendUnconditionalSet` is on, and the failure is an I/O
///   error (a timeout too, only with `resendAfterTimeout`).
/// Never after a pool failure (Redis down, pool exhausted: a retry would fail the same way) and
/// never after a Redis error reply.
public struct RetryPolicy: Sendable, Equatable {
    /// Re-sends after the first try (0 turns retrying off).
    public var attempts = 2
    /// The wait before the first re-send; doubled each time, half fixed and half random.
    public var backoff: Duration = .milliseconds(5)
    /// The longest wait between tries.
    public var backoffCap: Duration = .milliseconds(100)
    /// Also re-send idempotent requests after a socket timeout (each try may then take a whole
    /// socket timeout; off by default so a stalled Redis answers 504 fast).
    public var resendAfterTimeout = false
    /// Treat `SET key value [EX|PX|EXAT|PXAT n] [KEEPTTL]` (no NX, XX or GET) as idempotent.
    public var resendUnconditionalSet = false

    /// The defaults: 2 re-sends, 5 ms backoff doubling up to 100 ms, no re-send after timeouts, SET not re-sent.
    public init() {}

    /// True when `commands`, having failed with `error` on try `attempt` (1 for the first), may be sent again.
    func allowsResend(of commands: [RedisCommand], after error: RedisError, attempt: Int) -> Bool {
        guard attempt <= attempts else { return false }
        if !error.mayHaveReachedRedis { return true }
        switch error.kind {
        case .io, .connectionBroken: break
        case .timeout: guard resendAfterTimeout else { return false }
        case .connectFailed, .handshakeFailed, .protocolError, .replyTooLarge: return false
        }
        return commands.allSatisfy(isIdempotent)
    }

    /// The wait before re-send number `attempt` (1 for the first re-send); `jitter` in 0..<1.
    func delay(beforeResend attempt: Int, jitter: Double) -> Duration {
        let step = min(backoffCap.secondsDouble, backoff.secondsDouble * Double(1 << min(attempt - 1, 20)))
        return .nanoseconds(Int64((step / 2 + step / 2 * jitter) * 1e9))
    }

    /// True when running `command` twice leaves Redis as running it once and answers the same.
    func isIdempotent(_ command: RedisCommand) -> Bool {
        let name = CommandTable.qualifiedName(command.arguments)
        if CommandTable.readOnly.contains(name) { return true }
        guard resendUnconditionalSet, name == "SET" else { return false }
        let options = command.arguments.dropFirst(3).map { String(decoding: $0, as: UTF8.self).uppercased() }
        return !options.contains { ["NX", "XX", "GET"].contains($0) }
    }
}
