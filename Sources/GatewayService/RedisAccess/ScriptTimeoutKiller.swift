import ConnectionPool
import CoreUtilities
public import Logging
import RedisClient
import Synchronization

/// The script run-time budget: a request whose script (`EVAL`, `EVALSHA`, `FCALL` and their `_RO`
/// forms) is still running when the request times out (the socket timeout) gets the script killed,
/// so a busy loop of one caller does not hold Redis, and every pooled connection, for good.
///
/// The gateway sends `SCRIPT KILL` (or `FUNCTION KILL`) itself, on a side connection of its own
/// (never a pooled one: those are all waiting on the busy Redis), and waits up to `patience` for
/// Redis to take it. Redis reads other clients' commands during a script only once the script has
/// run `busy-reply-threshold` (`lua-time-limit`, 5 s by default), so the kill lands then: set it
/// at or below the gateway's socket timeout for the budget to be the socket timeout. A script that
/// already wrote cannot be killed (`UNKILLABLE`: only `SHUTDOWN NOSAVE` stops it); that is logged.
/// Callers refused `SCRIPT KILL` by the policy stay refused: only the gateway sends it.
///
/// Threading: `timedOut` may be called from any thread; one kill runs at a time (requests timing
/// out together behind one busy script need one kill).
public final class ScriptTimeoutKiller: Sendable {
    private let patience: Duration
    private let logger: Logger
    private let running = Atomic<Bool>(false)
    private let onKill: @Sendable () -> Void

    /// Waits up to `patience` for Redis to take a kill; `onKill` is told of each (metrics).
    public init(patience: Duration = .seconds(6), logger: Logger, onKill: @escaping @Sendable () -> Void = {}) {
        self.patience = patience
        self.logger = logger
        self.onKill = onKill
    }

    /// The kill command for `commands`, when one of them runs a script.
    static func kill(for commands: [RedisCommand]) -> RedisCommand? {
        for command in commands {
            guard let name = command.arguments.first.map(ASCIICase.uppercased) else { continue }
            switch name {
            case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO": return RedisCommand("SCRIPT", "KILL")
            case "FCALL", "FCALL_RO": return RedisCommand("FUNCTION", "KILL")
            default: continue
            }
        }
        return nil
    }

    /// `commands` failed with a timeout on a connection made by `factory`: if they ran a script,
    /// kill it from a side connection (on a thread of its own; returns at once).
    func timedOut(_ commands: [RedisCommand], factory: RedisConnectionFactory) {
        guard let kill = Self.kill(for: commands), !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        PoolThread.start(name: "script-kill") { [self] in
            defer { running.store(false, ordering: .releasing) }
            run(kill, factory: factory)
        }
    }

    private func run(_ kill: RedisCommand, factory: RedisConnectionFactory) {
        let connection: RedisConnection
        do {
            connection = try factory.bareConnection(patience: patience)
        } catch {
            return logger.warning(
                "a script outlived its request, and no side connection could be opened to kill it",
                metadata: ["error": "\(error)"])
        }
        defer { connection.close() }
        connection.setSocketTimeout(patience)
        var command = kill
        // BUSY from SCRIPT KILL while a function runs (or the other way round): the other kill.
        for _ in 0..<2 {
            let reply: RedisValue
            do {
                reply = try connection.send(command)
            } catch {
                return logger.warning(
                    "a script outlived its request; Redis did not take the kill within \(patience) (busy-reply-threshold too high?)",
                    metadata: ["error": "\(error)"])
            }
            switch reply.errorMessage {
            case nil:
                onKill()
                return logger.warning(
                    "killed a script that outlived its request (the socket timeout)", metadata: ["command": "\(command.name)"])
            case let message? where message.hasPrefix("NOTBUSY"):
                return  // it ended by itself meanwhile
            case let message? where message.hasPrefix("UNKILLABLE"):
                return logger.error(
                    "a script that wrote is running past its request and cannot be killed (only SHUTDOWN NOSAVE stops it)",
                    metadata: ["reply": "\(message)"])
            case let message? where message.hasPrefix("BUSY"):
                command = command.name == "SCRIPT" ? RedisCommand("FUNCTION", "KILL") : RedisCommand("SCRIPT", "KILL")
            case let message?:
                return logger.warning("a script outlived its request; Redis refused the kill", metadata: ["reply": "\(message)"])
            }
        }
    }
}
