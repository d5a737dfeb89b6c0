import Testing

@testable import GatewayService

@Suite struct ClusterScanCursorTests {
    @Test func roundTripsThroughDigits() throws {
        for (primary, node) in [(0, "0"), (1, "0"), (2, "0"), (0, "17"), (1, "17"), (12, "123456789"), (999, "5")] {
            let cursor = ClusterScanCursor(primary: primary, nodeCursor: node)
            #expect(cursor.text.allSatisfy { $0.isNumber })
            let read = try #require(ClusterScanCursor(Array(cursor.text.utf8)))
            #expect(read == cursor, "\(cursor.text)")
        }
        #expect(ClusterScanCursor(primary: 0, nodeCursor: "0").text == "0", "start and end")
        #expect(ClusterScanCursor(primary: 1, nodeCursor: "17").text == "17001")
    }

    @Test func refusesWhatItDidNotWrite() {
        for text in ["", "-1", "abc", "1.5", String(repeating: "9", count: 41)] {
            #expect(ClusterScanCursor(Array(text.utf8)) == nil, "\(text)")
        }
    }
}
