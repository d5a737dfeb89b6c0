import HTTPServer
import Logging
import Synchronization

/// Gives every request an id (the client's `X-Request-Id`, or a new one), echoes it in the
/// response, and logs the request at debug level with that id in the logger's metadata.
struct RequestLogging: Sendable {
    let logger: Logger
    private let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    private let counter = SharedCounter()

    init(logger: Logger) {
        self.logger = logger
    }

    /// Answers `request` with `respond`, adding the request id and a debug log line.
    func handle(_ request: HTTPRequest, with respond: (HTTPRequest) -> HTTPResponse) -> HTTPResponse {
        let id =
            request.header("x-request-id").flatMap { $0.isEmpty || $0.count > 128 ? nil : $0 }
            ?? "\(prefix)-\(counter.next())"
        let clock = ContinuousClock()
        let start = clock.now
        var response = respond(request)
        response.headers.append(("X-Request-Id", id))
        if logger.logLevel <= .debug {
            var requestLogger = logger
            requestLogger[metadataKey: "request-id"] = "\(id)"
            requestLogger.debug(
                "\(request.method) \(request.rawPath) \(response.status)",
                metadata: ["duration": "\(clock.now - start)"])
        }
        return response
    }
}

/// A process-wide, thread-safe increasing counter.
final class SharedCounter: Sendable {
    private let value = Atomic<UInt64>(0)

    func next() -> UInt64 {
        value.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
