import RedisClient
import Testing

@testable import GatewayService

/// Which failed requests may be re-sent: every class of the decision, one test each.
@Suite struct RetryPolicyTests {
    let policy = RetryPolicy()
    let ambiguous = RedisError(.io, "Redis closed the connection")
    let notSent = RedisError(.io, "Redis closed the connection (found before sending)", mayHaveReachedRedis: false)
    let timedOut = RedisError(.timeout, "Redis did not answer")

    func command(_ words: String...) -> RedisCommand {
        RedisCommand(arguments: words.map { Array($0.utf8) })
    }

    @Test func anythingThatNeverReachedRedisIsResentEvenWrites() {
        for write in [command("INCR", "k"), command("LPUSH", "l", "x"), command("EVAL", "return 1", "0")] {
            #expect(policy.allowsResend(of: [write], after: notSent, attempt: 1))
        }
        #expect(policy.allowsResend(of: [command("MULTI"), command("INCR", "k"), command("EXEC")], after: notSent, attempt: 1))
    }

    @Test func readOnlyCommandsAreResentAfterAnAmbiguousIOError() {
        for read in [
            command("GET", "k"), command("MGET", "a", "b"), command("TTL", "k"), command("EXISTS", "k"), command("HGET", "h", "f"),
        ] {
            #expect(policy.allowsResend(of: [read], after: ambiguous, attempt: 1), "\(read.name)")
        }
        #expect(policy.allowsResend(of: [command("GET", "a"), command("TTL", "a")], after: ambiguous, attempt: 1))
    }

    @Test func writesAreNeverResentAfterAnAmbiguousFailure() {
        for write in [
            command("INCR", "k"), command("LPUSH", "l", "x"), command("EVAL", "return 1", "0"), command("EVALSHA", "abc", "0"),
            command("DEL", "k"), command("SET", "k", "v"),
        ] {
            #expect(!policy.allowsResend(of: [write], after: ambiguous, attempt: 1), "\(write.name)")
        }
        #expect(
            !policy.allowsResend(of: [command("GET", "a"), command("INCR", "a")], after: ambiguous, attempt: 1), "one write spoils a batch")
        #expect(!policy.allowsResend(of: [command("MULTI"), command("GET", "a"), command("EXEC")], after: ambiguous, attempt: 1))
    }

    @Test func plainSetIsResentOnlyWhenConfiguredAndNeverWithConditions() {
        var lenient = policy
        lenient.resendUnconditionalSet = true
        #expect(lenient.allowsResend(of: [command("SET", "k", "v")], after: ambiguous, attempt: 1))
        #expect(lenient.allowsResend(of: [command("SET", "k", "v", "EX", "10")], after: ambiguous, attempt: 1))
        for conditional in [command("SET", "k", "v", "NX"), command("set", "k", "v", "xx"), command("SET", "k", "v", "GET")] {
            #expect(!lenient.allowsResend(of: [conditional], after: ambiguous, attempt: 1))
        }
        #expect(!lenient.allowsResend(of: [command("INCR", "k")], after: ambiguous, attempt: 1))
    }

    @Test func timeoutsAreNotResentUnlessConfiguredAndThenOnlyReads() {
        #expect(!policy.allowsResend(of: [command("GET", "k")], after: timedOut, attempt: 1))
        var patient = policy
        patient.resendAfterTimeout = true
        #expect(patient.allowsResend(of: [command("GET", "k")], after: timedOut, attempt: 1))
        #expect(!patient.allowsResend(of: [command("INCR", "k")], after: timedOut, attempt: 1))
    }

    @Test func protocolErrorsAndExhaustedAttemptsStopRetrying() {
        #expect(!policy.allowsResend(of: [command("GET", "k")], after: RedisError(.protocolError, "bad"), attempt: 1))
        #expect(policy.allowsResend(of: [command("GET", "k")], after: ambiguous, attempt: 2))
        #expect(!policy.allowsResend(of: [command("GET", "k")], after: ambiguous, attempt: 3), "2 re-sends by default")
        var off = policy
        off.attempts = 0
        #expect(!off.allowsResend(of: [command("INCR", "k")], after: notSent, attempt: 1))
    }

    @Test func theBackoffDoublesWithJitterUpToTheCap() {
        #expect(policy.delay(beforeResend: 1, jitter: 0) == .microseconds(2500))
        #expect(policy.delay(beforeResend: 1, jitter: 1) == .milliseconds(5))
        #expect(policy.delay(beforeResend: 2, jitter: 1) == .milliseconds(10))
        #expect(policy.delay(beforeResend: 10, jitter: 1) == .milliseconds(100))
    }
}
