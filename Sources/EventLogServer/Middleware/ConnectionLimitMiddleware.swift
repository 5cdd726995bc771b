import HTTPTypes
import Hummingbird

/// Refuses `/v1` requests while the server has more open connections than
/// ``LogServerConfiguration/maxConnections``, and closes their connection.
///
/// A condition that passes: `503 unavailable` with `Retry-After`, except on the event-stream
/// endpoint, whose browser clients give up on anything but `200`: there it is `200` with a
/// jittered `retry:` and the end of the stream, as the contract asks. Either way the
/// connection is closed once the answer is written.
struct ConnectionLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let counter: ConnectionRegistry
    let limit: Int
    let configuration: LogServerConfiguration
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/v1"), counter.current > limit else { return try await next(request, context) }
        metrics.connectionRefused()
        (context as? any ChannelRequestContext)?.channel.closeConnectionAfterAnswer()
        let retry = configuration.jitteredRetryMilliseconds()
        if request.method == .get, Self.isEventStream(path) {
            return Routes<Context>.refusedStream(retryMilliseconds: retry, headers: [
                .contentType: "text/event-stream; charset=utf-8",
                .cacheControl: "no-cache",
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ])
        }
        let seconds = max(1, (retry + 999) / 1000)
        throw APIError(.unavailable, "Too many open connections: retry in \(seconds) s.",
                       headers: [.retryAfter: String(seconds), .connection: "close"])
    }

    /// `/v1/topics/{topic}/events`.
    static func isEventStream(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 5 && parts[1] == "v1" && parts[2] == "topics" && parts[4] == "events"
    }
}
