public import Hummingbird
import HTTPTypes

/// CORS for an exact list of origins, with credentials (cookies) allowed.
///
/// Every answer to a request whose `Origin` is on the list (errors and event streams
/// included) carries `Access-Control-Allow-Origin: <that origin>`,
/// `Access-Control-Allow-Credentials: true` and `Vary: Origin`. A preflight (`OPTIONS` with
/// `Access-Control-Request-Method`) from such an origin is answered `204` here, before
/// authentication, since browsers send preflights without credentials. Other origins get no
/// CORS headers at all.
public struct AllowedOriginsMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>

    /// Allows the given origins, such as `https://app.example.com`.
    public init(origins: some Sequence<String>) {
        self.origins = Set(origins)
    }

    static var allowedMethods: String { "GET, POST, PUT, PATCH, DELETE, OPTIONS" }
    static var exposedHeaders: String { "Retry-After, Content-Type" }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var headers = HTTPFields()
            addCommonHeaders(origin: origin, to: &headers)
            headers[.accessControlAllowMethods] = Self.allowedMethods
            headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders]
                ?? "Authorization, Content-Type, Idempotency-Key, Last-Event-ID"
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        addCommonHeaders(origin: origin, to: &response.headers)
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        return response
    }

    private func addCommonHeaders(origin: String, to headers: inout HTTPFields) {
        headers[.accessControlAllowOrigin] = origin
        headers[.accessControlAllowCredentials] = "true"
        headers[.vary] = "Origin"
    }
}
