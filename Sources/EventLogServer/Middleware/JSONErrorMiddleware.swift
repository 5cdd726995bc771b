public import Hummingbird
import HTTPTypes
import Logging
import NIOCore

/// Turns every error thrown below it into a JSON answer `{"error", "message"}` and counts it.
///
/// ``APIError`` keeps its status; `LogError` goes through the one mapping table;
/// Hummingbird's own `HTTPError`s (unknown route, body too large) get a code; anything else is
/// a `500 internal_error` that never shows its details to the client.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics?

    init(metrics: ServerMetrics?) {
        self.metrics = metrics
    }

    /// Makes the middleware.
    public init() {
        self.metrics = nil
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error, request: request)
            Self.report(apiError, for: error, path: request.uri.path, logger: context.logger, metrics: metrics)
            return apiError.response()
        }
    }

    /// Logs and counts an error answer, as every answer this middleware makes of an error
    /// (and the produce shortcut's, which no middleware sees) is.
    static func report(_ apiError: APIError, for error: any Error, path: String, logger: Logger, metrics: ServerMetrics?) {
        // 503 and 507 report a condition, logged where it begins and ends (``WriteHealth``).
        if apiError.code.status.kind == .serverError, apiError.code.status != .serviceUnavailable,
           apiError.code != .insufficientStorage {
            logger.error("Request failed", metadata: ["error": "\(error)", "path": "\(path)"])
        } else {
            // The client's doing (or a passing condition): worth a line when debugging only.
            logger.debug("Request refused", metadata: ["error": "\(apiError.code.name)", "path": "\(path)"])
        }
        metrics?.recordError(code: apiError.code.name)
    }

    static func apiError(for error: any Error, request: Request) -> APIError {
        if let httpError = error as? HTTPError {
            switch httpError.status {
            case .notFound:
                return APIError(.notFound, "No route for \(request.method) \(request.uri.path).")
            case .contentTooLarge:
                return APIError(.payloadTooLarge, "The request body is larger than the server accepts.")
            case .methodNotAllowed:
                return APIError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path).")
            case .badRequest:
                return APIError(.invalidArgument, httpError.body ?? "The request is malformed.")
            default:
                return APIError(APIError.Code(httpError.status.reasonPhrase.lowercased().replacing(" ", with: "_"), httpError.status),
                                httpError.body ?? httpError.status.reasonPhrase)
            }
        }
        return APIError.from(error)
    }

}
