import HTTPServer

/// The gateway's routing table: every endpoint, its method, who may call it, and its handler.
/// Thrown `GatewayError`s become responses here.
struct GatewayRoutes {
    /// Who may call a route.
    enum Access {
        /// Anyone (liveness and readiness probes).
        case open
        /// Anyone, unless the deployment protects metrics.
        case metrics
        /// Any valid token.
        case read
        /// A token with full access; a successful call counts as a write for the sync token.
        case write
        /// Any valid token; each command is then checked against the caller's role.
        case command
    }

    let cache: CacheHandlers
    let health: HealthHandlers
    let pool: PoolHandlers
    let commands: CommandHandlers
    let sessions: SessionHandlers
    let subscriptions: SubscribeHandlers
    /// Runs the handlers that wait for Redis or the database off the HTTP threads.
    let redis: RedisExecutor
    let authenticator: Authenticator
    let protectMetrics: Bool
    let syncToken: SyncToken
    let retryAfterSeconds: Int

    typealias Handler = @Sendable (HTTPRequest, CallerRole) throws(GatewayError) -> HTTPResponse
    /// A handler that answers through its completion, possibly later from another thread.
    typealias AsyncHandler =
        @Sendable (HTTPRequest, CallerRole, @escaping @Sendable (Result<HTTPResponse, GatewayError>) -> Void) -> Void

    /// The router with every route.
    func makeRouter() -> Router {
        var router = Router()
        // Handlers that wait (for Redis, for the database) run on `redis.offload`'s threads, so the
        // HTTP threads — as few as the cores — never wait; `addInline` is for those that do not.
        func add(_ method: HTTPMethod, _ path: String, _ access: Access, _ handler: @escaping Handler) {
            router.addAsync(method, path, offloaded(wrap(access, handler)))
        }
        func addInline(_ method: HTTPMethod, _ path: String, _ access: Access, _ handler: @escaping Handler) {
            router.add(method, path, wrap(access, handler))
        }
        router.addAsync(.get, "/cache/{key}", wrapAsync(.read) { request, _, completion in cache.get(request, completion: completion) })
        router.addAsync(.put, "/cache/{key}", wrapAsync(.write) { request, _, completion in cache.put(request, completion: completion) })
        add(.delete, "/cache/{key}", .write) { request, _ throws(GatewayError) in try cache.delete(request) }
        add(.post, "/cache/{key}/expire", .write) { request, _ throws(GatewayError) in try cache.expire(request) }
        add(.delete, "/cache/{key}/expire", .write) { request, _ throws(GatewayError) in try cache.persist(request) }
        add(.get, "/cache/{key}/ttl", .read) { request, _ throws(GatewayError) in try cache.ttl(request) }
        addInline(.get, "/pool/stats", .metrics) { request, _ throws(GatewayError) in try pool.stats(request) }
        add(.get, "/pool/health", .metrics) { request, _ throws(GatewayError) in try health.poolHealth(request) }
        addInline(.get, "/metrics", .metrics) { request, _ in pool.metrics(request) }
        addInline(.get, "/healthz", .open) { request, _ in health.healthz(request) }
        addInline(.get, "/readyz", .open) { request, _ throws(GatewayError) in try health.readyz(request) }
        add(.post, "/api/login", .open) { request, _ throws(GatewayError) in try sessions.login(request) }
        router.addAsync(.get, "/api/data", wrapAsync(.open) { request, _, completion in sessions.data(request, completion: completion) })
        add(.post, "/api/logout", .open) { request, _ throws(GatewayError) in try sessions.logout(request) }
        add(.put, "/api/users/{id}", .write) { request, _ throws(GatewayError) in try sessions.updateUser(request) }
        // Opening an event stream does not wait: the subscription connection subscribes for it.
        let subscribe: Handler = { request, role throws(GatewayError) in try subscriptions.subscribe(request, role: role, kind: .channel) }
        let psubscribe: Handler = { request, role throws(GatewayError) in try subscriptions.subscribe(request, role: role, kind: .pattern) }
        addInline(.get, "/subscribe/{channels*}", .read, subscribe)
        addInline(.post, "/subscribe/{channels*}", .read, subscribe)
        addInline(.get, "/psubscribe/{patterns*}", .read, psubscribe)
        addInline(.post, "/psubscribe/{patterns*}", .read, psubscribe)
        router.addAsync(.post, "/", wrapAsync(.command, commands.single))
        add(.post, "/pipeline", .command, commands.pipeline)
        add(.post, "/multi-exec", .command, commands.multiExec)
        let commandInPath = wrapAsync(.command, commands.path)
        router.setAsyncFallback { request, responder in
            switch request.method {
            case .get, .head, .post, .put:
                commandInPath(request, responder)
            case .delete, .patch, .options, .other:
                responder.respond(
                    GatewayError.methodNotAllowed("method \(request.method) not allowed for a command", allow: "GET, HEAD, POST, PUT")
                        .response(retryAfterSeconds: retryAfterSeconds))
            }
        }
        return router
    }

    private func offloaded(_ handler: @escaping Router.Handler) -> Router.AsyncHandler {
        { [redis, retryAfterSeconds] request, responder in
            redis.offload({ responder.respond(handler(request)) }) { error in
                responder.respond(error.response(retryAfterSeconds: retryAfterSeconds))
            }
        }
    }

    private func wrap(_ access: Access, _ handler: @escaping Handler) -> Router.Handler {
        { request in
            do throws(GatewayError) {
                let role = try authorize(request, access)
                let response = try handler(request, role)
                if access == .write { syncToken.recordWrite() }
                return response
            } catch {
                return error.response(retryAfterSeconds: retryAfterSeconds)
            }
        }
    }

    private func wrapAsync(_ access: Access, _ handler: @escaping AsyncHandler) -> Router.AsyncHandler {
        { [self] request, responder in
            let role: CallerRole
            do throws(GatewayError) {
                role = try authorize(request, access)
            } catch {
                return responder.respond(error.response(retryAfterSeconds: retryAfterSeconds))
            }
            // The completion captures only what it needs: capturing `self` would copy (and retain)
            // every handler on each request.
            let syncToken = access == .write ? syncToken : nil
            let retryAfterSeconds = retryAfterSeconds
            handler(request, role) { result in
                switch result {
                case .success(let response):
                    syncToken?.recordWrite()
                    responder.respond(response)
                case .failure(let error):
                    responder.respond(error.response(retryAfterSeconds: retryAfterSeconds))
                }
            }
        }
    }

    private func authorize(_ request: HTTPRequest, _ access: Access) throws(GatewayError) -> CallerRole {
        switch access {
        case .open:
            return .full
        case .metrics:
            return protectMetrics ? try authenticator.role(of: request) : .full
        case .read, .command:
            return try authenticator.role(of: request)
        case .write:
            let role = try authenticator.role(of: request)
            guard role == .full else { throw .forbidden("NOPERM this token is read-only") }
            return role
        }
    }
}
