public import EventLog

/// What an operator can tune about the HTTP layer; every limit has a safe default.
public struct LogServerConfiguration: Sendable {
    /// The largest request body accepted; larger ones get `413 payload_too_large`. Default 8 MiB.
    public var maxBodyBytes: Int = 8 << 20
    /// Static bearer tokens, each granting everything. With no tokens and no ``jwtKeys``
    /// authentication is off.
    public var authTokens: [String] = []
    /// Keys whose signed JWTs are accepted, each granting what its `logd` claim names
    /// (``AccessScope``).
    public var jwtKeys: [JWTVerificationKey] = []
    /// Origins allowed to call from a browser (exact `scheme://host[:port]` matches); empty: no CORS headers.
    public var corsOrigins: [String] = []
    /// The memory budget and I/O throttle of compactions asked for over HTTP.
    public var compactionLimits = CompactionLimits()
    /// Whether producing to, or streaming (SSE) from, an unknown topic creates it with the
    /// defaults. Fetches, long-polls and WebSockets never create topics. With authentication
    /// on, only a caller that may `manage` the topic creates it on use.
    public var autoCreateTopics: Bool = true
    /// Auto-creation creates a topic only while the store holds fewer topics than this
    /// (internal ones not counted): a bound on the topics, and their open files, that clients
    /// can make by naming them. `PUT` is not bounded by it. `nil`: no bound. Default 1,000.
    public var autoCreateMaxTopics: Int? = 1_000
    /// How often an idle stream sends a `: keepalive` comment.
    public var keepaliveInterval: Duration = .seconds(15)
    /// The reconnection delay sent as `retry:` on every stream (to the millisecond). Refused
    /// streams and connections get it with up to 100 % jitter. Default 2 s.
    public var retryDelay: Duration = .seconds(2)
    /// Open streams (SSE and WebSocket) at most; more are answered `200` with `retry:` and ended.
    public var maxStreams: Int = 10_000
    /// Open connections at most, counted from their accept by the server that
    /// ``LogServer/httpServer(router:tls:)`` builds; requests on connections beyond it are answered `503 unavailable` with `Retry-After`
    /// (streams: `200` with `retry:`) and the connection is closed. `nil`: no limit.
    public var maxConnections: Int? = nil
    /// The largest request head (request line and headers) accepted; larger ones are answered
    /// `431 headers_too_large` and their connection closed. Default 32 KiB: room for a JWT of
    /// the 16 KiB the server accepts, in a header and a cookie.
    public var maxHeaderBytes: Int = 32 << 10
    /// The streams one HTTP/2 connection may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`):
    /// a browser multiplexes every `EventSource` of an origin over one connection, so this is
    /// also how many streams one page can hold open. Default 100.
    public var http2MaxConcurrentStreams: Int = 100
    /// How long a request head may take from its first byte to its end; a slower one is
    /// answered `408 request_timeout` and its connection closed (slowloris clients).
    public var headerTimeout: Duration = .seconds(10)
    /// How long a connection may stay silent between requests (keep-alive), or in the middle
    /// of a request body, before it is closed (a stalled body is answered `408`).
    public var idleTimeout: Duration = .seconds(60)
    /// After a graceful shutdown begins (`SIGTERM`), how long connections have to finish before
    /// every one still open is closed: streams stuck on a client that reads nothing, bodies and
    /// heads that never end. Streams themselves end at once. Default 10 s.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// How long a stream's write may make no progress (its client reads nothing) before the
    /// connection is closed; the client resumes by its `Last-Event-ID`. `nil`: wait forever.
    public var stuckStreamTimeout: Duration? = .seconds(60)
    /// How many records a stream reads ahead of its client at most (one batch, written and awaited).
    public var streamBatchRecords: Int = 500
    /// How many bytes of records a stream reads ahead of its client at most.
    public var streamBatchBytes: Int = 256 << 10
    /// The memory shared by caught-up event streams: a partition's newest records read once
    /// and encoded once for all the streams an append wakes (least recently used first out).
    /// `0` turns sharing off. Default 4 MiB.
    public var streamReadCacheBytes: Int = 4 << 20
    /// Requests per second allowed per token (or per client address without one); `nil`: no limit.
    public var requestsPerSecond: Double? = nil
    /// How long the commits of a consumer group without members are kept after its newest
    /// commit (Kafka's `offsets.retention.minutes`); `nil` keeps them forever. Default 7 days.
    public var offsetsRetention: Duration? = .seconds(7 * 24 * 3600)
    /// How long the answer to an `Idempotency-Key` is kept in memory. At least 10 minutes, as
    /// the contract promises. (Deduplication itself is the engine's producer state, which
    /// outlives this window and restarts: see Docs/HTTP-API.md.)
    public var idempotencyWindow: Duration = .seconds(600)
    /// How many answers to `Idempotency-Key`s are kept in memory, over all topics and callers;
    /// the oldest is forgotten first.
    public var idempotencyMaxKeys: Int = 100_000
    /// How many bytes those answers may take in memory; the oldest is forgotten first.
    public var idempotencyMaxBytes: Int = 64 << 20

    /// The defaults.
    public init() {}
}

extension LogServerConfiguration {
    /// ``retryDelay`` in milliseconds, as `retry:` sends it.
    var retryMilliseconds: Int { Int(clamping: retryDelay.wholeMilliseconds) }

    /// ``retryDelay`` with up to 100 % jitter, in milliseconds: so that refused clients do not
    /// come back together.
    func jitteredRetryMilliseconds() -> Int {
        retryMilliseconds + Int.random(in: 0...max(1, retryMilliseconds))
    }
}
