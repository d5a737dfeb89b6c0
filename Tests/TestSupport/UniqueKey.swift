import Foundation

/// A key (or name) unique to one test, so tests share a Redis server without FLUSHALL.
public func uniqueKey(_ label: String = "k") -> String {
    "test:\(UUID().uuidString.prefix(12)):\(label)"
}
