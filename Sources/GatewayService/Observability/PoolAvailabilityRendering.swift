import ConnectionPool
import CoreUtilities
import Foundation
import HTTPServer

/// The pool's availability as JSON members, shared by `/readyz` and `/pool/stats`:
/// `"state":"up"` or `"state":"down","down_since":"<RFC 3339 UTC>","down_for_seconds":1.2,"last_error":"..."`.
enum PoolAvailabilityRendering {
    /// The JSON members (without braces) describing `availability` at `now`.
    static func members(_ availability: PoolAvailability, now: PoolInstant = .now()) -> String {
        switch availability {
        case .up:
            return #""state":"up""#
        case .down(let since, let lastError):
            let downFor = now.duration(since: since).secondsDouble
            let sinceDate = Date(timeIntervalSinceNow: -downFor)
            let stamp = sinceDate.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
            return #""state":"down","down_since":"\#(stamp)Z","down_for_seconds":\#((downFor * 1000).rounded() / 1000),"#
                + #""last_error":\#(JSONString.quote(lastError))"#
        }
    }
}
