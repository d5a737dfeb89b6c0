import Synchronization

/// Where a handler sends its response, now or later and from any thread: the way a request that
/// waits for something (a Redis reply) lets its HTTP thread serve other connections meanwhile.
///
/// Exactly one response counts; later ones are ignored. On libmicrohttpd the connection is
/// suspended while the handler has not answered and resumed when it does.
///
/// Threading: `respond(_:)` may be called from any thread, once.
public final class HTTPResponder: Sendable {
    private enum State {
        /// The handler has not answered, and the connection is not suspended.
        case waiting
        /// The connection is suspended until the answer arrives.
        case suspended
        /// The answer, not yet taken.
        case answered(HTTPResponse)
        /// Taken (queued on the connection, or handed on).
        case done
    }

    private let state = Mutex(State.waiting)
    private let resume: @Sendable () -> Void
    private let onAnswer: (@Sendable (HTTPResponse) -> Void)?

    /// A responder that hands the response to `onAnswer` on whatever thread answers.
    public init(onAnswer: @escaping @Sendable (HTTPResponse) -> Void) {
        self.onAnswer = onAnswer
        self.resume = {}
    }

    /// A responder for a connection that `resume` wakes once suspended.
    init(resume: @escaping @Sendable () -> Void) {
        self.onAnswer = nil
        self.resume = resume
    }

    /// Answers the request. Only the first call counts.
    public func respond(_ response: HTTPResponse) {
        if let onAnswer {
            let first = state.withLock { state in
                guard case .waiting = state else { return false }
                state = .done
                return true
            }
            if first { onAnswer(response) }
            return
        }
        // The resume happens under the lock, so it can never overtake the suspension it ends.
        state.withLock { state in
            switch state {
            case .waiting:
                state = .answered(response)
            case .suspended:
                state = .answered(response)
                resume()
            case .answered, .done:
                break
            }
        }
    }

    /// A responder that passes the response through `transform` before answering here.
    public func transformed(_ transform: @escaping @Sendable (HTTPResponse) -> HTTPResponse) -> HTTPResponder {
        HTTPResponder { [self] response in respond(transform(response)) }
    }

    /// The answer if there is one (taken, so it is queued once); otherwise `suspend` runs, under
    /// the lock, and nil is returned: the answer will resume the connection.
    func takeAnswerOrSuspend(_ suspend: () -> Void) -> HTTPResponse? {
        state.withLock { state in
            switch state {
            case .answered(let response):
                state = .done
                return response
            case .waiting:
                state = .suspended
                suspend()
                return nil
            case .suspended, .done:
                return nil
            }
        }
    }

    /// The answer after a resume, taken; nil if there is none (yet).
    func takeAnswer() -> HTTPResponse? {
        state.withLock { state in
            guard case .answered(let response) = state else { return nil }
            state = .done
            return response
        }
    }
}
