import CoreUtilities
import HTTPServer
import RedisClient

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Login attempts, limited per client address and per user, counted in Redis (so every gateway in
/// front of one Redis shares the count) with the sliding window of upstash-ratelimit's
/// `slidingWindow`: a counter per fixed window, and the previous window's count weighted by how much
/// of it still falls inside the sliding one. Every attempt counts, right or wrong, before the
/// password is checked, so a flood costs Redis one script call each and no password hashing.
///
/// The counters live under the reserved prefix, all in one hash slot (`{login}`) so that one
/// script may touch the address's and the user's together on a cluster too.
struct LoginLimiter: Sendable {
    let perAddress: Int
    let perUser: Int
    let window: Duration
    let prefix: String

    /// Why an attempt was refused.
    enum Refusal: Equatable, Sendable {
        case address
        case user
    }

    static let script = """
        local window = tonumber(ARGV[3])
        local weight = (window - tonumber(ARGV[4])) / window
        local function used(current, previous)
          return tonumber(redis.call('GET', current) or '0') + math.floor(weight * tonumber(redis.call('GET', previous) or '0'))
        end
        if used(KEYS[1], KEYS[2]) >= tonumber(ARGV[1]) then return 'address' end
        if used(KEYS[3], KEYS[4]) >= tonumber(ARGV[2]) then return 'user' end
        for _, key in ipairs({KEYS[1], KEYS[3]}) do
          if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, window * 2 + 1000) end
        end
        return 'ok'
        """

    /// What an address counts as: itself for IPv4, its /64 for IPv6 (one host is given a /64).
    static func counted(_ address: ClientAddress) -> String {
        if address.high == 0, address.low >> 32 == 0xFFFF { return address.description }
        return String(address.high, radix: 16) + "::/64"
    }

    /// Counts one attempt for `userID` from `address` (all unknown addresses count as one), or
    /// refuses it with how long until the window lets one through.
    func attempt(userID: Int64, from address: ClientAddress?, redis: RedisExecutor, now: Date = Date()) throws(GatewayError) {
        let windowMilliseconds = Int64(window.secondsDouble * 1000)
        let nowMilliseconds = Int64(now.timeIntervalSince1970 * 1000)
        let index = nowMilliseconds / windowMilliseconds
        let elapsed = nowMilliseconds % windowMilliseconds
        let addressKey = prefix + "{login}:address:" + (address.map(Self.counted) ?? "unknown")
        let userKey = prefix + "{login}:user:" + String(userID)
        let reply = try redis.execute(
            RedisCommand(
                "EVAL", Self.script, "4", "\(addressKey):\(index)", "\(addressKey):\(index - 1)", "\(userKey):\(index)",
                "\(userKey):\(index - 1)", String(perAddress), String(perUser), String(windowMilliseconds), String(elapsed)),
            label: "POST /api/login")
        let retryAfter = max(1, Int((windowMilliseconds - elapsed + 999) / 1000))
        switch reply.text {
        case "address":
            throw .tooManyRequests(
                "too many login attempts from this address: at most \(perAddress) a minute (GATEWAY_LOGIN_LIMIT_PER_ADDRESS)",
                retryAfterSeconds: retryAfter)
        case "user":
            throw .tooManyRequests(
                "too many login attempts for this user: at most \(perUser) a minute (GATEWAY_LOGIN_LIMIT_PER_USER)",
                retryAfterSeconds: retryAfter)
        default:
            return
        }
    }
}
