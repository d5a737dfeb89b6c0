public import ConnectionPool
import CoreUtilities
public import Logging

/// The gateway's pool observer: every event feeds `PoolMetrics`; the rare ones an operator must see
/// (Redis went down, came back, a connection held suspiciously long) are also logged.
///
/// Threading: called from borrowing, dialling and maintenance threads; holds no state of its own.
public struct PoolEventLogging: ConnectionPoolObserver {
    /// Where the metrics go.
    public let metrics: PoolMetrics
    private let logger: Logger

    /// Forwards to `metrics` and logs to `logger`.
    public init(metrics: PoolMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    public func borrowFinished(waited: Duration, outcome: BorrowOutcome) {
        metrics.borrowFinished(waited: waited, outcome: outcome)
    }

    public func connectionReturned(after duration: Duration) {
        metrics.connectionReturned(after: duration)
    }

    public func connectionCreated(in duration: Duration) {
        metrics.connectionCreated(in: duration)
    }

    public func connectFailed(message: String) {
        metrics.connectFailed(message: message)
    }

    public func connectionClosed(reason: ConnectionCloseReason) {
        metrics.connectionClosed(reason: reason)
    }

    public func poolWentDown(error: String) {
        metrics.poolWentDown(error: error)
        logger.error(
            "Redis is down: requests that find no idle connection fail fast until a probe reconnects", metadata: ["error": "\(error)"])
    }

    public func poolRecovered(after downtime: Duration) {
        metrics.poolRecovered(after: downtime)
        logger.notice("Redis is reachable again", metadata: ["down-seconds": "\(downtime.secondsDouble)"])
    }

    public func stallBegan() {
        logger.warning("Redis is not answering in time (a stall, not an outage): requests wait within their borrow deadline")
    }

    public func stallEnded(after duration: Duration) {
        logger.notice("Redis answers again after a stall", metadata: ["stall-seconds": "\(duration.secondsDouble)"])
    }

    public func leakDetected(_ report: LeakReport) {
        metrics.leakDetected(report)
        logger.warning(
            "a Redis connection has been held longer than the leak-detection threshold",
            metadata: ["route": "\(report.label)", "held-seconds": "\(report.heldFor.secondsDouble)"])
    }
}
