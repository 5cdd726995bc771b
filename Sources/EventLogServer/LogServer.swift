public import EventLog
public import Hummingbird
public import HummingbirdCore
public import HummingbirdWebSocket
public import Logging
import NIOCore
public import ServiceLifecycle

/// The HTTP face of a `EventLog.LogStore`: topics, produce, fetch, event streams, WebSockets.
///
/// Mount it in any Hummingbird router:
///
/// ```swift
/// let server = LogServer(store: store, configuration: .init(), logger: logger)
/// let router = Router(context: LogRequestContext.self)
/// server.addMiddleware(to: router)      // JSON errors, CORS, auth, rate limit
/// server.addRoutes(to: router)          // /v1/…, /healthz, /metrics
/// server.addWebSocketRoutes(to: router) // /v1/topics/{topic}/ws
/// let app = Application(router: router, server: server.httpServer(router: router))
/// ```
///
/// It is also a `Service`: run it in the `ServiceGroup` *after* the application, so that it
/// is shut down first. Its shutdown marks `/healthz` unhealthy and ends every open stream,
/// which lets the HTTP server's graceful shutdown finish. It never closes the store: whoever
/// opened it closes it once the server has stopped (``LogStoreCloser``).
public final class LogServer: Service, Sendable {
    /// The store served.
    public let store: LogStore
    /// The HTTP layer's limits and switches.
    public let configuration: LogServerConfiguration
    let logger: Logger
    let lifecycle = ServerLifecycle()
    let metrics = ServerMetrics()
    let writeHealth: WriteHealth
    let idempotency: IdempotencyCache
    let streamSlots: StreamSlots
    let connections = ConnectionRegistry()
    let streamReadCache: StreamReadCache
    /// The caught-up plain SSE streams of each topic, written to by one task per topic.
    let liveFanout: LiveFanout
    let rateLimiter: RateLimiter?
    let groups: GroupCoordinatorLoader  // consumer groups (Routes+Groups.swift)
    /// `nil` when authentication is off.
    let authenticator: Authenticator?

    /// Makes a server for `store`.
    public init(store: LogStore, configuration: LogServerConfiguration = .init(), logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.writeHealth = WriteHealth(logger: logger)
        self.idempotency = IdempotencyCache(window: configuration.idempotencyWindow, maxKeys: configuration.idempotencyMaxKeys,
                                            maxBytes: configuration.idempotencyMaxBytes)
        self.streamSlots = StreamSlots(limit: configuration.maxStreams)
        self.streamReadCache = StreamReadCache(capacityBytes: configuration.streamReadCacheBytes)
        let liveFanout = LiveFanout(cache: streamReadCache, configuration: configuration, metrics: metrics)
        self.liveFanout = liveFanout
        lifecycle.onStopping { liveFanout.stopAll() }
        self.rateLimiter = configuration.requestsPerSecond.map { RateLimiter(requestsPerSecond: $0) }
        var groupOptions = GroupCoordinator.Options()
        groupOptions.offsetsRetention = configuration.offsetsRetention
        self.groups = GroupCoordinatorLoader(store: store, options: groupOptions, logger: logger)
        self.authenticator = Authenticator(staticTokens: configuration.authTokens, jwtKeys: configuration.jwtKeys)
    }

    /// Adds the middleware every answer needs, outermost first: CORS (when origins are set),
    /// gzip for JSON answers of 1 KiB or more (when accepted), JSON errors, the open-connection limit (when set), authentication (when tokens or JWT keys are set), rate limiting (when a rate is set).
    ///
    /// Add it before any route, so that it also wraps the router's "not found" answer.
    public func addMiddleware<Context: RequestContext>(to router: Router<Context>) {
        if !configuration.corsOrigins.isEmpty {
            router.add(middleware: AllowedOriginsMiddleware<Context>(origins: configuration.corsOrigins))
        }
        router.add(middleware: GzipJSONMiddleware<Context>())
        router.add(middleware: JSONErrorMiddleware<Context>(metrics: metrics))
        if let maxConnections = configuration.maxConnections {
            router.add(middleware: ConnectionLimitMiddleware<Context>(
                counter: connections, limit: maxConnections, configuration: configuration, metrics: metrics))
        }
        if let authenticator {
            router.add(middleware: AuthMiddleware<Context>(authenticator: authenticator))
        }
        if let rateLimiter {
            router.add(middleware: RateLimitMiddleware<Context>(limiter: rateLimiter))
        }
    }

    /// The HTTP server to give the `Application`: HTTP/1.1, answered by `router` through the
    /// server's own connection layer (`HTTP1Connection`, Docs/adr/0005-http1-connection.md), with
    /// WebSocket upgrades routed by `router`; and HTTP/2, answered by the application's
    /// responder — over TLS when `tls` is given (ALPN `h2`), else h2c for
    /// clients that open with HTTP/2's preface (prior knowledge).
    ///
    /// Every connection is guarded from its accept (`LogServerChannel`, Transport/LogServerChannel.swift): heads of at most
    /// ``LogServerConfiguration/maxHeaderBytes`` (HTTP/2: per stream, `431`), arriving within
    /// ``LogServerConfiguration/headerTimeout`` (HTTP/1.1), silent connections and stalled
    /// bodies ended after ``LogServerConfiguration/idleTimeout``, at most
    /// ``LogServerConfiguration/http2MaxConcurrentStreams`` streams per HTTP/2 connection,
    /// every connection counted for ``LogServerConfiguration/maxConnections`` and closed when
    /// a graceful shutdown's ``LogServerConfiguration/shutdownGracePeriod`` ends.
    ///
    /// ```swift
    /// let tls = try TLSCredentials(certificatePath: "cert.pem", keyPath: "key.pem", logger: logger)
    /// let app = Application(router: router, server: server.httpServer(router: router, tls: tls))
    /// ```
    ///
    /// - Parameters:
    ///   - router: the router that answers HTTP/1.1 requests and upgrades WebSockets; the
    ///     application's responder should be built from the same router.
    ///   - tls: the certificate and key every new connection presents; `nil` for plain TCP.
    public func httpServer<Router: HTTPResponderBuilder & SendableMetatype>(
        router: Router, tls: TLSCredentials? = nil
    ) -> HTTPServerBuilder
    where Router.Responder.Context: WebSocketRequestContext & RequestContext, Router.Responder.Context.Source == ApplicationRequestContextSource {
        let http1Responder = HTTP1Responder(StreamRequestResponder(router.buildResponder()))
        let webSocketResponder = router.buildResponder()
        return HTTPServerBuilder { [self] responder in
            logServerChannel(webSocketResponder: webSocketResponder, tls: tls, http1: http1Responder, responder: responder)
        }
    }

    /// The child channel of every accepted connection: HTTP/1.1 answered by `http1` (the
    /// server's own connection layer, HTTP1Connection.swift; event streams from a child task,
    /// StreamRequestResponder.swift), WebSocket upgrades by `webSocketResponder`, and HTTP/2 streams
    /// answered by `responder`.
    func logServerChannel<WebSocketResponder: HTTPResponder>(
        webSocketResponder: WebSocketResponder, tls: TLSCredentials?, http1: HTTP1Responder,
        responder: @escaping HTTPChannelHandler.Responder
    ) -> LogServerChannel where WebSocketResponder.Context: WebSocketRequestContext {
        var http1Configuration = HTTP1Channel.Configuration()
        http1Configuration.httpDecoder = .init(maxHeaderFieldSize: configuration.maxHeaderBytes,
                                               maxHeaderListSize: configuration.maxHeaderBytes)
        let limits = ConnectionLimits(maxHeaderBytes: configuration.maxHeaderBytes,
                                      headerTimeout: TimeAmount(configuration.headerTimeout),
                                      idleTimeout: TimeAmount(configuration.idleTimeout))
        return LogServerChannel(
            http1: http1,
            webSocket: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                    configuration: .init(http1: http1Configuration)),
            http2: HTTP2Connection(stream: HTTP2RequestStream(responder: responder, limits: limits, metrics: metrics),
                                   configuration: configuration, metrics: metrics),
            tls: tls, limits: limits, registry: connections, metrics: metrics)
    }

    /// Adds the HTTP routes: topics, records, event streams, `/healthz` and `/metrics`.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let routes = Routes<Context>(server: self)
        routes.addOperationRoutes(to: router)
        routes.addTopicRoutes(to: router)
        routes.addProduceRoutes(to: router)
        routes.addFetchRoutes(to: router)
        routes.addStreamRoutes(to: router)
        routes.addGroupRoutes(to: router)
        routes.addMaintenanceRoutes(to: router)
        routes.addStaticRoutes(to: router)
    }

    /// Adds `GET /v1/topics/{topic}/ws`: the event stream and produce over one WebSocket.
    public func addWebSocketRoutes<Context: WebSocketRequestContext>(to router: Router<Context>) {
        Routes<Context>(server: self).addWebSocketRoutes(to: router)
    }

    /// Marks the server healthy, waits for graceful shutdown, then ends every open stream and
    /// gives every connection ``LogServerConfiguration/shutdownGracePeriod`` to finish before
    /// it is closed, so that the HTTP server's own shutdown ends within that bound.
    public func run() async throws {
        lifecycle.markRunning()
        try? await gracefulShutdown()
        logger.info("Ending open streams")
        lifecycle.beginStopping()
        connections.closeAll(after: configuration.shutdownGracePeriod)
        await groups.close()
    }

    /// The store's consumer-group coordinator, opened by the first call: the one the HTTP
    /// group routes use, for other protocols served on the same store (the Kafka listener),
    /// so that a group has one membership and one set of commits.
    public func groupCoordinator() async throws -> GroupCoordinator {
        try await groups.coordinator()
    }

    /// Verifies a token as the HTTP API does (a static token, or a JWT signed by a configured
    /// key and not expired), for other protocols served on the same store: a Kafka client's
    /// SASL/PLAIN password. `nil` when the token is refused or authentication is off.
    ///
    /// - Returns: what the token grants, and how long it stays valid (until a JWT's `exp`;
    ///   `nil` for a static token or a JWT without one).
    public func verify(token: String) async -> (scope: AccessScope, lifetime: Duration?)? {
        guard let authenticator, let grant = try? await authenticator.verify(token: token) else { return nil }
        let lifetime = grant.expiresAtSeconds.map { Duration.milliseconds(max(0, Int64($0 * 1000) - currentTimeMilliseconds())) }
        return (grant.scope, lifetime)
    }

    /// The lifecycle, for tests that run routes without running the service.
    var lifecycleForTesting: ServerLifecycle { lifecycle }

    /// Ends open streams and makes `/healthz` answer `503`, as a graceful shutdown does.
    public func beginStopping() {
        lifecycle.beginStopping()
    }
}

/// A `Service` that closes a `EventLog.LogStore` on graceful shutdown: syncs every
/// partition, writes the clean-shutdown marker and releases the directory lock.
///
/// Put it *first* in the `ServiceGroup` so that it is shut down last, after the HTTP server
/// has answered its last request.
public struct LogStoreCloser: Service {
    let store: LogStore
    let logger: Logger

    /// Closes `store` when the service group shuts down.
    public init(store: LogStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        logger.info("Closing the log store")
        try await store.close()
    }
}
