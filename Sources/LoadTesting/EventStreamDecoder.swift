/// Takes a chunked `text/event-stream` response apart as bytes arrive: the status line and
/// headers, then the chunk framing, then events (the text between blank lines). The load client
/// re-declares the format itself (it speaks only HTTP, a black box).
///
/// Threading: one decoder per connection, used by one thread.
public struct EventStreamDecoder: Sendable {
    private enum Phase {
        case head
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case done
    }

    private var phase: Phase
    private var raw: [UInt8] = []
    private var body: [UInt8] = []
    /// The response status once the head arrived; 0 before (and always, when the head was read elsewhere).
    public private(set) var status = 0
    /// True once the last chunk arrived.
    public var ended: Bool {
        if case .done = phase { return true }
        return false
    }

    /// A decoder for a whole response, or (`afterHead`) for a chunked body whose head the caller read.
    public init(afterHead: Bool = false) {
        phase = afterHead ? .chunkSize : .head
    }

    /// Feeds received bytes; returns the events they completed, in order.
    public mutating func feed(_ bytes: [UInt8]) -> [[UInt8]] {
        raw += bytes
        var offset = 0
        loop: while true {
            switch phase {
            case .head:
                guard let end = Self.find([13, 10, 13, 10], in: raw, from: offset) else { break loop }
                let line = raw[offset..<end].split(separator: 32, maxSplits: 2)
                status = line.count > 1 ? Int(String(decoding: line[1], as: UTF8.self)) ?? -1 : -1
                offset = end + 4
                phase = .chunkSize
            case .chunkSize:
                guard let end = Self.find([13, 10], in: raw, from: offset) else { break loop }
                let text = String(decoding: raw[offset..<end], as: UTF8.self).split(separator: ";").first ?? ""
                offset = end + 2
                guard let size = Int(text, radix: 16), size > 0 else {
                    phase = .done
                    break loop
                }
                phase = .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, raw.count - offset)
                guard take > 0 else { break loop }
                body += raw[offset..<(offset + take)]
                offset += take
                phase = remaining == take ? .chunkEnd : .chunkData(remaining: remaining - take)
            case .chunkEnd:
                guard raw.count - offset >= 2 else { break loop }
                offset += 2
                phase = .chunkSize
            case .done:
                break loop
            }
        }
        raw.removeFirst(offset)
        var events: [[UInt8]] = []
        var start = 0
        while let end = Self.find([10, 10], in: body, from: start) {
            events.append(Array(body[start..<end]))
            start = end + 2
        }
        if start > 0 { body.removeFirst(start) }
        return events
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count - start >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0], needle.count == 1 || haystack[index + 1] == needle[1],
                needle.count <= 2 || (haystack[index + 2] == needle[2] && haystack[index + 3] == needle[3])
            {
                return index
            }
            index += 1
        }
        return nil
    }
}
