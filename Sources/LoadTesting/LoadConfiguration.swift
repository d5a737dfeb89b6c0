/// One bounded load run: where, what, how many connections, and when to stop.
public struct LoadConfiguration: Sendable {
    /// Where the load goes.
    public var target: LoadTarget
    /// What each request does.
    public var scenario: Scenario
    /// Keep-alive connections, each with one request in flight at a time.
    public var connections = 50
    /// Event-loop threads the connections are spread over.
    public var threads = 1
    /// Stop after this many requests (nil: only the duration bounds the run).
    public var maxRequests: Int? = 2000
    /// Stop after this long (nil: only the request count bounds the run).
    public var duration: Duration? = .seconds(60)
    /// A request without a complete response after this long fails as a timeout.
    public var requestTimeout: Duration = .seconds(10)
    /// Bearer token for the gateway, if it has tokens.
    public var token: String?
    /// Size of the values written.
    public var valueBytes = 100
    /// Prefix of every key the run touches.
    public var keyPrefix = "load:"

    /// A run of `scenario` against `target` with the defaults (50 connections, 2,000 requests, 60 s cap).
    public init(target: LoadTarget, scenario: Scenario) {
        self.target = target
        self.scenario = scenario
    }
}
