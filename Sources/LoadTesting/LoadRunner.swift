import Foundation
import Synchronization

/// Runs one bounded load test: prepares the scenario's data, spreads the connections over
/// event-loop threads, shows a live progress line on a terminal, and merges what each thread measured.
public struct LoadRunner: Sendable {
    /// The run's settings.
    public let configuration: LoadConfiguration

    /// A runner for `configuration`.
    public init(configuration: LoadConfiguration) {
        self.configuration = configuration
    }

    /// Prepares, runs and reports. `progress` is called about once a second with
    /// (requests done, failures, current requests/s).
    public func run(progress: (@Sendable (Int, Int, Double) -> Void)? = nil) throws(LoadTestError) -> LoadReport {
        var factory = RequestFactory(
            scenario: configuration.scenario, target: configuration.target, token: configuration.token,
            valueBytes: configuration.valueBytes, keyPrefix: configuration.keyPrefix)
        try prepare(&factory)

        let start = ClientSocket.now()
        let budget = RequestBudget(maxRequests: configuration.maxRequests, duration: configuration.duration, start: start)
        let threads = max(1, min(configuration.threads, configuration.connections))
        let reports = Mutex<[LoadReport]>([])
        let group = DispatchGroup()
        for thread in 0..<threads {
            let share = configuration.connections / threads + (thread < configuration.connections % threads ? 1 : 0)
            let loop = EventLoop(
                configuration: configuration, factory: factory, budget: budget, connectionCount: share,
                seed: 0xC0FFEE &+ UInt64(thread))
            group.enter()
            Thread.detachNewThread {
                let report = loop.run()
                reports.withLock { $0.append(report) }
                group.leave()
            }
        }
        if let progress {
            var last = 0
            while group.wait(timeout: .now() + 1) == .timedOut {
                let done = budget.completed.load(ordering: .relaxed)
                progress(done, budget.failed.load(ordering: .relaxed), Double(done - last))
                last = done
            }
        } else {
            group.wait()
        }
        var merged = LoadReport()
        for report in reports.withLock({ $0 }) { merged.merge(report) }
        merged.elapsed = .nanoseconds(Int64(ClientSocket.now() - start))
        return merged
    }

    /// Stores the keys the read scenarios read, or logs in the session scenario's users.
    private func prepare(_ factory: inout RequestFactory) throws(LoadTestError) {
        switch configuration.scenario {
        case .cacheGet(let keys), .mixed(let keys, _):
            for key in 0..<keys {
                let response = try exchange(factory.build("PUT", "/cache/\(configuration.keyPrefix)\(key)", body: factory.value))
                guard (200..<300).contains(response.status) else {
                    throw LoadTestError(
                        "storing the scenario's keys failed: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
                }
            }
        case .sessionData(let users):
            for user in 1...max(users, 1) {
                // The seeded demo users' documented password (README, the session example).
                let body = Array(#"{"user_id":\#(user),"password":"demo-password"}"#.utf8)
                let login = factory.build("POST", "/api/login", body: body, contentType: "application/json")
                let response = try exchange(login, headersWanted: true)
                guard response.status == 200 || response.status == 201,
                    let cookie = response.header("set-cookie"), cookie.hasPrefix("sid=")
                else {
                    throw LoadTestError(
                        "logging in user \(user) failed (HTTP \(response.status)): the session-data scenario needs the session-cache service (POST /api/login)"
                    )
                }
                factory.sessions.append(String(cookie.dropFirst(4).prefix { $0 != ";" }))
            }
        case .cacheSet, .pipeline, .healthz:
            break
        }
    }

    /// One request on its own blocking connection.
    private func exchange(_ request: [UInt8], headersWanted: Bool = false) throws(LoadTestError) -> ResponseParser.Response {
        let socket = try ClientSocket(target: configuration.target, nonBlocking: false)
        var offset = 0
        while offset < request.count {
            guard let written = socket.write(request, from: offset), written > 0 else { throw LoadTestError("write failed") }
            offset += written
        }
        var buffer: [UInt8] = []
        while true {
            if let response = try ResponseParser.parse(buffer, headersWanted: headersWanted) { return response }
            guard socket.read(into: &buffer) != nil else { throw LoadTestError("the connection closed before a response") }
        }
    }
}
