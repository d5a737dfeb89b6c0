import HTTPServer

/// `GET|POST /subscribe/{channel}[/{channel}…]` and `/psubscribe/{pattern}[/…]`: an event stream
/// (`text/event-stream`) in the Upstash REST API's format, fed by the shared subscription.
struct SubscribeHandlers: Sendable {
    let hub: PubSubHub
    let policy: CommandPolicy

    /// Opens a stream for the channels (or patterns) named by the path segments after the first.
    func subscribe(_ request: HTTPRequest, role: CallerRole, kind: SubscriptionRegistry.Topic.Kind) throws(GatewayError) -> HTTPResponse {
        let command = kind == .channel ? "SUBSCRIBE" : "PSUBSCRIBE"
        if case .denied(let message)? = policy.subscriptionViolation(command) { throw .forbidden(message) }
        let names = request.pathSegments.dropFirst()
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }) else {
            throw .badRequest("ERR \(command) needs one or more non-empty \(kind == .channel ? "channel" : "pattern") names in the path")
        }
        let base64 = try ResponseFormat.base64(request)
        let stream = try hub.open(names.map { SubscriptionRegistry.Topic(kind: kind, name: $0) }, base64: base64)
        return .streaming(
            stream,
            headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")])
    }
}
