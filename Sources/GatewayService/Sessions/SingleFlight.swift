import ConnectionPool
import Synchronization

/// Collapses concurrent loads of the same key into one: the first caller runs the load, the others
/// wait (bounded) for its result. Within one process; across gateway replicas each loads once.
///
/// Threading: shared by all worker threads.
final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private final class Flight: Sendable {
        let done = ConditionLock<Result<Value, GatewayError>?>(nil)
        let condition: ConditionLock<Result<Value, GatewayError>?>.Condition

        init() {
            condition = done.makeCondition()
        }
    }

    /// How a call was served.
    enum Role: Equatable {
        /// This caller ran the load.
        case leader
        /// This caller waited for another caller's load.
        case joined
    }

    private let flights = Mutex<[Key: Flight]>([:])
    private let timeout: Duration

    /// Waiters give up after `timeout` with a 504-class error.
    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// The value for `key`: from `load` if no load for it is running, else from the running one.
    func value(for key: Key, load: () throws(GatewayError) -> Value) throws(GatewayError) -> (Value, Role) {
        let (flight, isLeader) = flights.withLock { flights in
            if let running = flights[key] { return (running, false) }
            let flight = Flight()
            flights[key] = flight
            return (flight, true)
        }
        if isLeader {
            let result: Result<Value, GatewayError>
            do throws(GatewayError) {
                result = .success(try load())
            } catch {
                result = .failure(error)
            }
            flights.withLock { _ = $0.removeValue(forKey: key) }
            flight.done.withLock { $0 = result }
            flight.condition.broadcast()
            return (try result.get(), .leader)
        }
        let deadline = PoolInstant.now().advanced(by: timeout)
        let timeout = self.timeout
        let outcome = flight.done.wait(
            on: flight.condition, until: deadline, poll: { $0 },
            timedOut: { _ in .failure(.loadTimedOut("waited \(timeout) for another request's database read")) })
        return (try outcome.get(), .joined)
    }
}
