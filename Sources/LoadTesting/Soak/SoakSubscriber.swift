import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One SSE stream on the soak's channel (`GET /subscribe/…`), reopened whenever it ends. Every
/// message must be one a worker published, and each worker's messages must arrive in the order
/// they were published, none twice; a fault may lose messages (the stream says `gap`), never
/// reorder or repeat them.
final class SoakSubscriber: @unchecked Sendable {
    let index: Int
    private let target: LoadTarget
    private let channel: String
    private let tally: SoakTally
    /// Messages received, and when the last one came (seconds since the start).
    let received = Atomic<Int>(0)
    let lastMessageAt = Mutex<Double>(0)
    private var lastSequence: [String: Int] = [:]

    init(index: Int, target: LoadTarget, channel: String, tally: SoakTally) {
        self.index = index
        self.target = target
        self.channel = channel
        self.tally = tally
    }

    /// Opens the stream until its first event (the subscription) and closes it: makes the
    /// gateway's subscriber link before the idle reading.
    func touch() throws(LoadTestError) {
        let socket = try ClientSocket(target: target, nonBlocking: false, timeoutSeconds: 5)
        let request = Array("GET /subscribe/\(channel) HTTP/1.1\r\nHost: \(target.address):\(target.port)\r\n\r\n".utf8)
        guard socket.write(request, from: 0) == request.count else { throw LoadTestError("cannot open an event stream") }
        var decoder = EventStreamDecoder()
        var buffer: [UInt8] = []
        while decoder.feed(buffer).isEmpty {
            buffer.removeAll()
            guard let read = socket.read(into: &buffer), read > 0 else { throw LoadTestError("the event stream did not subscribe") }
        }
    }

    /// Reads the stream until the tally says stop.
    func run() {
        let request = Array(
            "GET /subscribe/\(channel) HTTP/1.1\r\nHost: \(target.address):\(target.port)\r\nAccept: text/event-stream\r\n\r\n".utf8)
        while !tally.stopped.load(ordering: .relaxed) {
            guard let socket = try? ClientSocket(target: target, nonBlocking: false, timeoutSeconds: 1),
                socket.write(request, from: 0) == request.count
            else {
                tally.record(status: 0, what: "GET /subscribe: cannot connect")
                usleep(200_000)  // pacing of the reconnect, not a wait for a condition
                continue
            }
            var decoder = EventStreamDecoder()
            var buffer: [UInt8] = []
            var counted = false
            while !tally.stopped.load(ordering: .relaxed) {
                buffer.removeAll(keepingCapacity: true)
                guard let read = socket.read(into: &buffer) else { break }
                if read == 0 { continue }
                for event in decoder.feed(buffer) { handle(event) }
                if !counted, decoder.status != 0 {
                    counted = true
                    tally.record(status: decoder.status, what: "GET /subscribe: \(decoder.status)")
                    if decoder.status != 200 { break }
                }
                if decoder.ended { break }
            }
            if !tally.stopped.load(ordering: .relaxed), decoder.status == 200 {
                tally.record(status: 0, what: "GET /subscribe: the stream ended")
            }
            if decoder.status != 200 { usleep(200_000) }
        }
    }

    /// `data: message,<channel>,w<worker>-<sequence>`; other events (subscribe, gap, resubscribed) pass.
    private func handle(_ event: [UInt8]) {
        let text = String(decoding: event, as: UTF8.self)
        guard let data = text.split(separator: "\n").first(where: { $0.hasPrefix("data: message,") }) else { return }
        let payload = data.dropFirst("data: message,".count)
        guard payload.hasPrefix(channel + ","), case let message = payload.dropFirst(channel.count + 1),
            let dash = message.firstIndex(of: "-"), let sequence = Int(message[message.index(after: dash)...])
        else { return tally.wrongReply("stream \(index) got '\(text.prefix(120))'") }
        let worker = String(message[..<dash])
        if let last = lastSequence[worker], sequence <= last {
            tally.wrongReply("stream \(index) got \(message) after \(worker)-\(last): repeated or out of order")
        }
        lastSequence[worker] = sequence
        received.add(1, ordering: .relaxed)
        let now = tally.elapsed()
        lastMessageAt.withLock { $0 = now }
    }
}
