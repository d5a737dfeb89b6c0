import CoreUtilities
import Foundation
import Histogram
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `gateway-load --scenario pubsub`: `subscribers` event streams on one channel and a publisher
/// sending `rate` messages per second through the command API (`POST /` `["PUBLISH", …]`) for
/// `duration`. Each payload carries its send time; every stream measures publish → receipt and
/// counts what it got, so the report gives delivery percentiles and loss.
///
/// Subscribers are spread over `threads` reader threads, each with its own epoll set.
public struct PubSubLoad: Sendable {
    /// What to run.
    public struct Configuration: Sendable {
        public var target: LoadTarget
        public var token: String?
        public var subscribers = 1000
        public var rate = 100
        public var duration: Duration = .seconds(10)
        public var payloadBytes = 64
        public var threads = 2
        public var channel = "gateway-load"
        /// How long to wait for the last deliveries after the last publish.
        public var settle: Duration = .seconds(3)

        public init(target: LoadTarget) {
            self.target = target
        }
    }

    let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Opens the streams, waits until each is subscribed, publishes, and reports.
    /// `allSubscribed` runs once every stream is subscribed, before the first publish.
    public func run(progress: (@Sendable (String) -> Void)? = nil, allSubscribed: () -> Void = {}) throws(LoadTestError) -> PubSubReport {
        OpenFileLimit.raise(to: configuration.subscribers + 256)
        let threads = max(1, min(configuration.threads, configuration.subscribers))
        var groups: [[ClientSocket]] = Array(repeating: [], count: threads)
        let request = Array(
            ("GET /subscribe/\(configuration.channel) HTTP/1.1\r\nHost: \(configuration.target.address)\r\n"
                + "Accept: text/event-stream\r\n" + (configuration.token.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "\r\n").utf8)
        for index in 0..<configuration.subscribers {
            let socket = try ClientSocket(target: configuration.target, nonBlocking: false)
            guard socket.write(request, from: 0) == request.count else { throw LoadTestError("cannot send the subscribe request") }
            socket.makeNonBlocking()
            groups[index % threads].append(socket)
        }
        progress?("\(configuration.subscribers) streams open")
        let flags = Flags()
        let results = Mutex<[SubscriberTally]>([])
        var readers: [Thread] = []
        let finished = DispatchGroup()
        for group in groups {
            let sockets = UnsafeTransfer(group)
            finished.enter()
            let thread = Thread {
                let tally = Self.read(sockets.value, flags: flags)
                results.withLock { $0.append(tally) }
                finished.leave()
            }
            thread.stackSize = 1 << 20
            readers.append(thread)
            thread.start()
        }
        let clock = ContinuousClock()
        let subscribeDeadline = clock.now.advanced(by: .seconds(30))
        while flags.subscribed.load(ordering: .relaxed) < configuration.subscribers, clock.now < subscribeDeadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        guard flags.subscribed.load(ordering: .relaxed) == configuration.subscribers else {
            flags.stop.store(true, ordering: .relaxed)
            finished.wait()
            throw LoadTestError(
                "only \(flags.subscribed.load(ordering: .relaxed)) of \(configuration.subscribers) streams were subscribed within 30 s")
        }
        allSubscribed()
        progress?("all subscribed; publishing \(configuration.rate)/s for \(configuration.duration)")
        let started = clock.now
        let published = try publish()
        let publishElapsed = clock.now - started
        Thread.sleep(forTimeInterval: configuration.settle.secondsDouble)
        flags.stop.store(true, ordering: .relaxed)
        finished.wait()
        var report = PubSubReport(subscribers: configuration.subscribers, published: published, elapsed: publishElapsed)
        for tally in results.withLock({ $0 }) { report.add(tally) }
        return report
    }

    /// Publishes at the configured rate over one keep-alive connection; returns how many succeeded.
    private func publish() throws(LoadTestError) -> Int {
        let socket = try ClientSocket(target: configuration.target, nonBlocking: false)
        let padding = String(repeating: "p", count: max(0, configuration.payloadBytes - 24))
        let total = Int(Double(configuration.rate) * configuration.duration.secondsDouble)
        let interval = 1_000_000_000 / UInt64(max(configuration.rate, 1))
        let start = ClientSocket.now()
        var succeeded = 0
        var buffer: [UInt8] = []
        for sequence in 0..<total {
            let due = start + UInt64(sequence) * interval
            let now = ClientSocket.now()
            if due > now { usleep(UInt32((due - now) / 1000)) }
            let body = Array(#"["PUBLISH","\#(configuration.channel)","\#(ClientSocket.now()):\#(sequence):\#(padding)"]"#.utf8)
            var head = "POST / HTTP/1.1\r\nHost: \(configuration.target.address)\r\nContent-Length: \(body.count)\r\n"
            if let token = configuration.token { head += "Authorization: Bearer \(token)\r\n" }
            let request = Array((head + "\r\n").utf8) + body
            guard socket.write(request, from: 0) == request.count else { throw LoadTestError("the publish connection failed") }
            buffer.removeAll(keepingCapacity: true)
            while true {
                if let response = try ResponseParser.parse(buffer) {
                    if (200..<300).contains(response.status) { succeeded += 1 }
                    break
                }
                guard let count = socket.read(into: &buffer), count > 0 else { throw LoadTestError("the publish connection closed") }
            }
        }
        return succeeded
    }

    /// One reader thread: decodes every stream of `sockets` until `flags.stop`.
    private static func read(_ sockets: [ClientSocket], flags: Flags) -> SubscriberTally {
        var tally = SubscriberTally()
        var decoders = Array(repeating: EventStreamDecoder(), count: sockets.count)
        var descriptors = sockets.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        var buffer: [UInt8] = []
        let messagePrefix = Array("data: message,".utf8)
        let subscribePrefix = Array("data: subscribe,".utf8)
        while !flags.stop.load(ordering: .relaxed) {
            let count = poll(&descriptors, nfds_t(descriptors.count), 50)
            guard count > 0 else { continue }
            for index in descriptors.indices where descriptors[index].revents != 0 {
                descriptors[index].revents = 0
                buffer.removeAll(keepingCapacity: true)
                guard let read = sockets[index].read(into: &buffer) else {
                    tally.closed += 1
                    descriptors[index].fd = -1  // poll ignores it from now on
                    continue
                }
                guard read > 0 else { continue }
                let now = ClientSocket.now()
                for event in decoders[index].feed(buffer) {
                    if event.starts(with: messagePrefix) {
                        // message,<channel>,<sent ns>:<sequence>:<padding>
                        let fields = event[messagePrefix.count...].split(separator: UInt8(ascii: ","), maxSplits: 1)
                        guard fields.count == 2, let sent = UInt64(String(decoding: fields[1].prefix { $0 != 58 }, as: UTF8.self)) else {
                            tally.malformed += 1
                            continue
                        }
                        tally.received += 1
                        tally.latency.record(now > sent ? (now - sent) / 1000 : 0)
                    } else if event.starts(with: subscribePrefix) {
                        flags.subscribed.add(1, ordering: .relaxed)
                    } else if event.starts(with: Array("event: dropped".utf8)) {
                        tally.dropped += 1
                    } else if event.starts(with: Array("event: gap".utf8)) {
                        tally.gaps += 1
                    }
                }
            }
        }
        return tally
    }
}

/// What the reader threads and the publisher share.
private final class Flags: Sendable {
    let subscribed = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}

/// What one reader thread counted.
struct SubscriberTally {
    var received = 0
    var dropped = 0
    var gaps = 0
    var closed = 0
    var malformed = 0
    var latency = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
}

/// What a pub/sub run measured.
public struct PubSubReport: Sendable {
    public let subscribers: Int
    /// Messages the gateway accepted (2xx).
    public let published: Int
    /// How long publishing took.
    public let elapsed: Duration
    /// Messages received over all streams.
    public var received = 0
    /// Streams told they were dropped for being slow.
    public var dropped = 0
    /// Gap events (the gateway's subscription connection broke).
    public var gaps = 0
    /// Streams that ended.
    public var closed = 0
    /// Events that did not parse.
    public var malformed = 0
    /// Publish → receipt, in microseconds.
    public var latency = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)

    /// Deliveries owed: every published message to every stream.
    public var expected: Int { published * subscribers }
    /// Deliveries missing.
    public var lost: Int { max(0, expected - received) }

    mutating func add(_ tally: SubscriberTally) {
        received += tally.received
        dropped += tally.dropped
        gaps += tally.gaps
        closed += tally.closed
        malformed += tally.malformed
        latency.add(tally.latency)
    }

    /// The latency at `percentile` in milliseconds.
    public func latencyMilliseconds(_ percentile: Double) -> Double {
        Double(latency.valueAtPercentile(percentile)) / 1000
    }

    /// A human-readable summary.
    public func summary(title: String) -> String {
        let rate = elapsed.secondsDouble > 0 ? Double(published) / elapsed.secondsDouble : 0
        return """
            \(title)
              published     \(published) messages in \(String(format: "%.2f", elapsed.secondsDouble)) s (\(Int(rate))/s)
              delivered     \(received) of \(expected) (lost \(lost), \(String(format: "%.3f", expected == 0 ? 0 : Double(lost) * 100 / Double(expected))) %)
              latency ms    p50 \(latencyMilliseconds(50))  p90 \(latencyMilliseconds(90))  p99 \(latencyMilliseconds(99))  max \(latencyMilliseconds(100))
              dropped \(dropped), gaps \(gaps), closed \(closed), malformed \(malformed)
            """
    }

    /// The summary as one JSON object.
    public func json() -> String {
        #"{"scenario":"pubsub","subscribers":\#(subscribers),"published":\#(published),"expected":\#(expected),"received":\#(received),"#
            + #""lost":\#(lost),"p50_ms":\#(latencyMilliseconds(50)),"p90_ms":\#(latencyMilliseconds(90)),"p99_ms":\#(latencyMilliseconds(99)),"#
            + #""max_ms":\#(latencyMilliseconds(100)),"dropped":\#(dropped),"gaps":\#(gaps),"closed":\#(closed)}"#
    }
}

/// Hands a non-Sendable value to exactly one other thread.
private struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
