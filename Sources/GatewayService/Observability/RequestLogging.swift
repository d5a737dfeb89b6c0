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

    /// A responder for `request` that adds the request id (and a debug log line) to the answer,
    /// lets `stamp` add what else every response carries, then passes it to `responder` (one
    /// wrapping responder per request, not one per concern).
    func responder(
        for request: HTTPRequest, answering responder: HTTPResponder,
        stamp: @escaping @Sendable (inout HTTPResponse) -> Void = { _ in }
    ) -> HTTPResponder {
        let id =
            request.header("x-request-id").flatMap { $0.isEmpty || $0.utf8.count > 128 ? nil : $0 }
            ?? prefix + "-" + String(counter.next())
        let clock = ContinuousClock()
        let start = clock.now
        let logger = logger
        // The log line is only built when it will be written (interpolation costs on every request).
        let (method, path) = (request.method, request.rawPath)
        return responder.transformed { response in
            var response = response
            response.headers.append(("X-Request-Id", id))
            stamp(&response)
            if logger.logLevel <= .debug {
                var requestLogger = logger
                requestLogger[metadataKey: "request-id"] = "\(id)"
                requestLogger.debug("\(method) \(path) \(response.status)", metadata: ["duration": "\(clock.now - start)"])
            }
            return response
        }
    }
}

/// A process-wide, thread-safe increasing counter.
final class SharedCounter: Sendable {
    private let value = Atomic<UInt64>(0)

    func next() -> UInt64 {
        value.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
