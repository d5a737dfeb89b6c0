import CoreUtilities
import Foundation
import LoadTesting
import Synchronization
import TestSupport

/// A bounded closed-loop load on the gateway from a few threads, one HTTP request per connection,
/// recording when each request started, how long it took and how it ended: the timeline the fault
/// figures are read from.
final class LoadRecorder: @unchecked Sendable {
    /// One request.
    struct Sample: Sendable {
        /// Seconds from the start of the load to the request's start.
        let start: Double
        /// Seconds until its response (or failure).
        let latency: Double
        /// HTTP status; `refused` when no connection could be made, `noResponse` when the
        /// connection broke before a whole response.
        let status: Int
        /// The response body (a failure's message, or what a success returned).
        let body: String
        /// The `Retry-After` header, if any.
        var retryAfter: String? = nil
        /// The request target (method and path).
        var target = ""
        var end: Double { start + latency }
    }

    static let refused = -2
    static let noResponse = -1

    let port: Int
    private let threads: Int
    private let request: @Sendable (Int) -> (method: String, target: String, body: String)
    private let sourceAddress: String?
    private let running = Atomic<Bool>(false)
    private let samples = Mutex<[Sample]>([])
    private var workers: [TestThread] = []
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// A load of `threads` loops, each sending `request(n)` for its n-th request.
    init(
        port: Int, threads: Int, sourceAddress: String? = nil,
        request: @escaping @Sendable (Int) -> (method: String, target: String, body: String)
    ) {
        self.port = port
        self.threads = threads
        self.sourceAddress = sourceAddress
        self.request = request
        origin = clock.now
    }

    /// Seconds since the recorder was created (the timeline's origin).
    var now: Double { (clock.now - origin).secondsDouble }

    /// Starts the threads.
    func start() {
        running.store(true, ordering: .relaxed)
        workers = (0..<threads).map { _ in
            TestThread { [self] in
                var count = 0
                while running.load(ordering: .relaxed) {
                    let sample = send(request(count))
                    count += 1
                    samples.withLock { $0.append(sample) }
                    if sample.status == Self.refused { usleep(2000) }  // no server: do not spin
                }
            }
        }
        workers.forEach { $0.start() }
    }

    /// Stops the threads (after their current request) and returns every sample in start order.
    func stop() -> [Sample] {
        running.store(false, ordering: .relaxed)
        workers.forEach { $0.join() }
        return samples.withLock { $0 }.sorted { $0.start < $1.start }
    }

    /// The samples recorded so far.
    func snapshot() -> [Sample] { samples.withLock { $0 } }

    /// Waits until `seconds` on the timeline (the load keeps running meanwhile).
    func wait(until seconds: Double) {
        _ = eventually(within: .seconds(60)) { now >= seconds }
    }

    private func send(_ request: (method: String, target: String, body: String)) -> Sample {
        var sample = exchange(request)
        sample.target = "\(request.method) \(request.target)"
        return sample
    }

    private func exchange(_ request: (method: String, target: String, body: String)) -> Sample {
        let begin = now
        guard let socket = BlockingSocket(port: port, timeoutSeconds: 10, sourceAddress: sourceAddress) else {
            return Sample(start: begin, latency: now - begin, status: Self.refused, body: "")
        }
        var head = "\(request.method) \(request.target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if request.method != "GET" { head += "Content-Length: \(request.body.utf8.count)\r\n" }
        head += "\r\n"
        guard socket.write(Array((head + request.body).utf8)) else {
            return Sample(start: begin, latency: now - begin, status: Self.noResponse, body: "write failed")
        }
        guard let response = HTTPTestClient.parse(socket.readToEnd()) else {
            return Sample(start: begin, latency: now - begin, status: Self.noResponse, body: "")
        }
        return Sample(
            start: begin, latency: now - begin, status: response.status, body: response.text,
            retryAfter: response.headers["retry-after"])
    }
}

extension [LoadRecorder.Sample] {
    /// Samples whose response arrived in `range` (seconds on the timeline).
    func ending(in range: ClosedRange<Double>) -> [LoadRecorder.Sample] { filter { range.contains($0.end) } }

    /// The first sample for which `isSuccess` is false, ending after `time`.
    func firstFailure(after time: Double, isSuccess: (LoadRecorder.Sample) -> Bool) -> LoadRecorder.Sample? {
        filter { $0.end >= time && !isSuccess($0) }.min { $0.end < $1.end }
    }

    /// The first success that started after `time` (so it saw the state after `time`).
    func firstSuccess(startingAfter time: Double, isSuccess: (LoadRecorder.Sample) -> Bool) -> LoadRecorder.Sample? {
        filter { $0.start >= time && isSuccess($0) }.min { $0.end < $1.end }
    }

    var longestLatency: Double { map(\.latency).max() ?? 0 }
}
