public import Hummingbird
import HTTPTypes

/// Requires one of a set of static tokens on every `/v1` request.
///
/// The token may come as `Authorization: Bearer <token>`, as `?access_token=<token>` (for
/// `EventSource`, which cannot set headers) or as a `logd_token` cookie. Without a valid one
/// the answer is `401 unauthorized`. Tokens are compared in constant time and never logged.
/// `/healthz` and `/metrics` stay open, for probes and scrapers.
public struct TokenAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: [[UInt8]]

    /// Accepts any of `tokens`.
    public init(tokens: some Sequence<String>) {
        self.tokens = tokens.map { Array($0.utf8) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1") else { return try await next(request, context) }
        guard let presented = Self.presentedToken(in: request), isValid(presented) else {
            throw APIError(.unauthorized, "A valid token is required: Authorization: Bearer, ?access_token= or the logd_token cookie.",
                           headers: [.wwwAuthenticate: "Bearer"])
        }
        return try await next(request, context)
    }

    /// The token a request presents, in the order header, query, cookie.
    static func presentedToken(in request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let prefix = "Bearer "
            if authorization.count > prefix.count, authorization.prefix(prefix.count).lowercased() == prefix.lowercased() {
                return String(authorization.dropFirst(prefix.count)).trimmingSpaces()
            }
        }
        if let token = request.uri.queryParameters["access_token"] {
            return String(token)
        }
        if let cookie = request.cookies["logd_token"] {
            return cookie.value
        }
        return nil
    }

    private func isValid(_ presented: String) -> Bool {
        let candidate = Array(presented.utf8)
        var matched = false
        for token in tokens where Self.constantTimeEquals(token, candidate) { matched = true }
        return matched
    }

    private static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return String(slice)
    }
}
