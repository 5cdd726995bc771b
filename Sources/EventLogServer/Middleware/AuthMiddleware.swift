import Hummingbird

/// Requires a valid token on every `/v1` request: a static token, or a JWT signed by a
/// configured key (see ``AccessScope`` for what a JWT may grant).
///
/// The token may come as `Authorization: Bearer <token>`, as `?access_token=<token>` (for
/// `EventSource`, which cannot set headers) or as a `logd_token` cookie. Without a valid one
/// the answer is `401 unauthorized`; routes answer `403 forbidden` for what the token does not
/// grant. Static tokens are compared in constant time; no token is ever logged. `/healthz`
/// and `/metrics` stay open, for probes and scrapers.
///
/// The grant it finds is the request's only one: routes read it (``Authenticator/current``)
/// rather than verifying the token again.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1") else { return try await next(request, context) }
        let grant = try await authenticator.verify(request)
        return try await Authenticator.$current.withValue((ObjectIdentifier(authenticator), grant)) {
            try await next(request, context)
        }
    }
}
