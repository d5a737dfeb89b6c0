import ConnectionPool
import CoreUtilities
import Foundation
import HTTPServer

/// The pool's availability as JSON members, shared by `/readyz` and `/pool/stats`:
/// `"state":"up"` or `"state":"down","down_since":"<RFC 3339 UTC>","down_for_seconds":1.2,"last_error":"..."`.
enum PoolAvailabilityRendering {
    /// The members describing `availability` at `now`.
    static func members(_ availability: PoolAvailability, now: PoolInstant = .now()) -> JSONObject {
        var json = JSONObject()
        switch availability {
        case .up:
            json.add("state", string: "up")
        case .down(let since, let lastError):
            let downFor = now.duration(since: since).secondsDouble
            let sinceDate = Date(timeIntervalSinceNow: -downFor)
            let stamp = sinceDate.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
            json.add("state", string: "down")
            json.add("down_since", string: stamp + "Z")
            json.add("down_for_seconds", (downFor * 1000).rounded() / 1000)
            json.add("last_error", string: lastError)
        }
        return json
    }
}
