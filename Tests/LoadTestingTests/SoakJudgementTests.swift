import Testing

@testable import LoadTesting

/// How the soak judges what it saw: a non-2xx passes only as a 503/504 inside a fault window, and
/// the RSS trend is a median slope (one outlier does not decide it).
@Suite struct SoakJudgementTests {
    let faults = [
        Soak.Fault(kind: "redis restart", start: 60, end: 61, recovery: 0, before: SoakSample(at: 59)),
        Soak.Fault(kind: "client pause", start: 90, end: 93, recovery: 0, before: SoakSample(at: 89)),
    ]

    @Test func onlyA503Or504InsideAFaultWindowIsExpected() {
        let failures = [
            SoakTally.Failure(at: 60.5, status: 503, what: "during the restart"),
            SoakTally.Failure(at: 70.9, status: 503, what: "inside the grace after it"),
            SoakTally.Failure(at: 92, status: 504, what: "during the pause"),
            SoakTally.Failure(at: 30, status: 503, what: "before any fault"),
            SoakTally.Failure(at: 75, status: 503, what: "after the grace"),
            SoakTally.Failure(at: 60.5, status: 500, what: "a 500 is never expected"),
            SoakTally.Failure(at: 91, status: 0, what: "nor a connection without an answer"),
            SoakTally.Failure(at: 91, status: 401, what: "nor a 4xx"),
        ]
        let unexpected = Soak.unexpected(failures, faults: faults, grace: 10).map(\.what)
        #expect(
            unexpected == [
                "before any fault", "after the grace", "a 500 is never expected", "nor a connection without an answer", "nor a 4xx",
            ])
    }

    @Test func theRSSTrendIsASlopeNotTheLastSample() {
        let flat = (0..<10).map { (Double($0) * 10, 40_000.0 + ($0 == 9 ? 3_000 : 0)) }
        #expect(Soak.slope(flat) == 0, "one high last sample does not make a trend (least squares: 16 KiB/s)")
        let growing = (0..<10).map { (Double($0) * 10, 40_000.0 + Double($0) * 100) }
        #expect(abs(Soak.slope(growing) - 10) < 0.001, "100 KiB per 10 s is 10 KiB/s")
    }

    @Test func theFilesThatAreNotPoolConnectionsAreCompared() {
        var before = SoakSample(at: 0)
        before.threads = 28
        before.openFiles = 40
        before.poolOpen = 8
        var after = before
        after.openFiles = 44
        after.poolOpen = 12
        #expect(after.isBack(to: before), "four more pool connections are not a leak")
        after.poolOpen = 8
        #expect(!after.isBack(to: before), "four more other files are")
        after.openFiles = 40
        after.threads = 29
        #expect(!after.isBack(to: before), "a thread more is")
    }

    @Test func memoryIsHeldToTheTargetOnALongRunAndToAnAbsoluteBoundOnAShortOne() {
        #expect(Soak.memoryVerdict(slope: 900, samples: 170, window: 1700).passed)
        #expect(!Soak.memoryVerdict(slope: 1100, samples: 170, window: 1700).passed, "1.1 MiB per 10 minutes over half an hour")
        #expect(Soak.memoryVerdict(slope: 6000, samples: 9, window: 80).passed, "800 KiB over 80 s: a trim's noise")
        #expect(!Soak.memoryVerdict(slope: 20000, samples: 9, window: 80).passed, "2.7 MiB over 80 s is not")
        #expect(!Soak.memoryVerdict(slope: 0, samples: 2, window: 80).passed, "too few samples to judge")
    }
}
