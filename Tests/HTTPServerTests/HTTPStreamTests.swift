import Synchronization
import Testing

@testable import HTTPServer

/// The stream's queue alone: bounded, suspended when empty and resumed by the next send, ended
/// after `finish`, and `onClose` once.
@Suite struct HTTPStreamTests {
    /// How often the stream suspended and resumed its (imaginary) connection.
    final class Calls: Sendable {
        let suspended = Atomic<Int>(0)
        let resumed = Atomic<Int>(0)
    }

    func drain(_ stream: HTTPStream, _ calls: Calls) -> (HTTPStream.Next, [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 8)
        let next = buffer.withUnsafeMutableBytes { raw in
            stream.next(
                into: raw, suspend: { calls.suspended.add(1, ordering: .relaxed) }, resume: { calls.resumed.add(1, ordering: .relaxed) })
        }
        if case .bytes(let count) = next { return (next, Array(buffer[..<count])) }
        return (next, [])
    }

    @Test func queuesWithinCapacitySuspendsWhenEmptyAndResumesOnSend() {
        let stream = HTTPStream(capacity: 10)
        let calls = Calls()
        #expect(stream.send(Array("hello".utf8)) == .queued)
        #expect(stream.send(Array("world!".utf8)) == .full, "11 bytes would exceed 10")
        let (_, first) = drain(stream, calls)
        #expect(first == Array("hello".utf8))
        guard case .wait = drain(stream, calls).0 else {
            Issue.record("an empty stream waits")
            return
        }
        #expect(calls.suspended.load(ordering: .relaxed) == 1 && calls.resumed.load(ordering: .relaxed) == 0)
        #expect(stream.send(Array("0123456789".utf8)) == .queued)
        #expect(calls.resumed.load(ordering: .relaxed) == 1, "the send resumed the suspended connection")
        #expect(drain(stream, calls).1 == Array("01234567".utf8), "at most the buffer's size")
        #expect(drain(stream, calls).1 == Array("89".utf8))
    }

    @Test func finishWritesTheFinalBytesPastCapacityThenEnds() {
        let stream = HTTPStream(capacity: 4)
        let calls = Calls()
        let closes = Atomic<Int>(0)
        stream.onClose { closes.add(1, ordering: .relaxed) }
        stream.finish(with: Array("bye-bye".utf8))
        #expect(stream.send([1]) == .closed)
        #expect(drain(stream, calls).1 == Array("bye-bye".utf8))
        guard case .end = drain(stream, calls).0 else {
            Issue.record("a finished, drained stream ends")
            return
        }
        stream.connectionEnded()
        stream.connectionEnded()
        #expect(closes.load(ordering: .relaxed) == 1 && stream.isClosed)
        let late = Atomic<Int>(0)
        stream.onClose { late.add(1, ordering: .relaxed) }
        #expect(late.load(ordering: .relaxed) == 1, "onClose after the end runs at once")
    }
}
