import Hummingbird
import HTTPTypes

/// Answers `429 rate_limited` with `Retry-After` when a client exceeds its request rate.
///
/// A client is its token when it presents one, else its address. Only `/v1` is limited.
struct RateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1") else { return try await next(request, context) }
        let client: String
        if let token = Authenticator.presentedToken(in: request) {
            client = "token:" + token
        } else if let address = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress {
            client = "address:" + address
        } else {
            client = "anonymous"
        }
        if let wait = limiter.acquire(client: client) {
            throw APIError(.rateLimited, "Too many requests: retry in \(wait) s.", headers: [.retryAfter: String(wait)])
        }
        return try await next(request, context)
    }
}
