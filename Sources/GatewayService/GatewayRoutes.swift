import HTTPServer

/// The gateway's routing table: every endpoint, its method, and its handler.
enum GatewayRoutes {
    /// The router for `cache`, `health` and `pool`; thrown `GatewayError`s become responses here.
    static func makeRouter(
        cache: CacheHandlers,
        health: HealthHandlers,
        pool: PoolHandlers,
        retryAfterSeconds: Int
    ) -> Router {
        var router = Router()
        func add(_ method: HTTPMethod, _ path: String, _ handler: @escaping @Sendable (HTTPRequest) throws(GatewayError) -> HTTPResponse) {
            router.add(method, path) { request in
                do throws(GatewayError) {
                    return try handler(request)
                } catch {
                    return error.response(retryAfterSeconds: retryAfterSeconds)
                }
            }
        }
        add(.get, "/cache/{key}", cache.get)
        add(.put, "/cache/{key}", cache.put)
        add(.delete, "/cache/{key}", cache.delete)
        add(.post, "/cache/{key}/expire", cache.expire)
        add(.delete, "/cache/{key}/expire", cache.persist)
        add(.get, "/cache/{key}/ttl", cache.ttl)
        add(.get, "/pool/stats", pool.stats)
        add(.get, "/pool/health", health.poolHealth)
        router.add(.get, "/metrics", pool.metrics)
        router.add(.get, "/healthz", health.healthz)
        add(.get, "/readyz", health.readyz)
        return router
    }
}
