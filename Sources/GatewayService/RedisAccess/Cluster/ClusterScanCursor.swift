/// A fan-out `SCAN` cursor: which primary (by index in address order) is being scanned, and that
/// node's own cursor. Written as decimal digits so clients that read cursors as numbers keep
/// working: the node's cursor followed by the primary's index in three digits (`"0"` starts at the
/// first primary and ends the scan; `"2"` starts primary 2; `"17001"` is cursor 17 on primary 1).
struct ClusterScanCursor: Equatable {
    /// Index of the primary in address order.
    let primary: Int
    /// That primary's cursor, as Redis wrote it.
    let nodeCursor: String

    /// The cursor for `nodeCursor` on primary `primary` (below 1000).
    init(primary: Int, nodeCursor: String) {
        self.primary = primary
        self.nodeCursor = nodeCursor
    }

    /// Reads a cursor the gateway wrote (or `"0"`); nil for anything else.
    init?(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, bytes.count <= 40, bytes.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        let padded = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 4 - bytes.count)) + bytes
        let node = padded.dropLast(3).drop { $0 == UInt8(ascii: "0") }
        primary = Int(String(decoding: padded.suffix(3), as: UTF8.self)) ?? 0
        nodeCursor = node.isEmpty ? "0" : String(decoding: node, as: UTF8.self)
    }

    /// The cursor as sent to the client.
    var text: String {
        if nodeCursor == "0" { return String(primary) }
        let index = String(primary)
        return nodeCursor + String(repeating: "0", count: 3 - index.count) + index
    }
}
