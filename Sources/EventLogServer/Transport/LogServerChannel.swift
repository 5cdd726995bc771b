import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// The server's child channel: one accepted connection, from its accept to its close.
///
/// The pipeline, front to back:
///
/// ```
/// [NIOSSLServerHandler]      when TLS is on: the context current at the accept
/// [TLSWriteCoalescer]        when TLS is on: what one flush writes, sealed as one record
/// ConnectionGuard.RawBytes   head size and time, idleness (removed for HTTP/2)
/// HTTPVersionSelector        ALPN, else HTTP/2's preface (h2c); for HTTP/1.1 the first head
///                            (WebSocket-capable or plain): chooses once, sets up, leaves
/// HTTP/1.1: [HTTP1FrontLane] (logd), NIO's encoder and decoder, ConnectionGuard.RequestParts,
///           HTTP types codec, HTTP1Connection (behind the lane, the four between are added
///           when it first hands something on); or, for a first request with `Upgrade`,
///           Hummingbird's WebSocket upgrade channel
/// HTTP/2:   NIOHTTP2Handler, connection manager, HTTP2ConnectionGuard; per stream HTTP2StreamGuard, codec, …
/// ```
///
/// Every connection is counted in the ``ConnectionRegistry`` from its accept, and guarded
/// from its accept: the ``ConnectionGuard`` is there (and its idle timer running) before the
/// TLS handshake or the first byte, so a silent connection is closed after the idle timeout
/// whichever protocol it would have spoken.
struct LogServerChannel: ServerChildChannel {
    /// The HTTP/1.1 pipeline a connection's first request asked for (``HTTPVersionSelector``).
    enum HTTP1Choice: Sendable {
        /// Served by its pipeline (``HTTP1Connection``): the connection needs no task.
        case plain
        case webSocket(HTTP1WebSocketUpgradeChannel.Value)
    }

    typealias Negotiated = NegotiatedHTTPVersion<HTTP1Choice, HTTP2Connection.Multiplexer>

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    /// Answers HTTP/1.1 requests on connections whose first request asks for no upgrade.
    let http1: HTTP1Responder
    /// HTTP/1.1 with WebSocket upgrades, for connections whose first request has `Upgrade`.
    let webSocket: HTTP1WebSocketUpgradeChannel
    let http2: HTTP2Connection
    /// `nil`: plain TCP.
    let tls: TLSCredentials?
    let limits: ConnectionLimits
    let registry: ConnectionRegistry
    let metrics: ServerMetrics

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let promise = channel.eventLoop.makePromise(of: Negotiated.self)
            try configure(channel, logger: logger) { promise.completeWith($0) }
            return Value(negotiated: promise.futureResult, channel: channel)
        }
    }

    /// Registers `channel` and sets its pipeline up to the choice of version; `chosen` is told
    /// the choice once the chosen pipeline is in place, or the error when the connection closes
    /// first (``setup(channel:logger:)`` makes it a future; ``HTTPListener`` needs none). Must
    /// run on the channel's event loop.
    func configure(_ channel: any Channel, logger: Logger, chosen: @escaping (Result<Negotiated, any Error>) -> Void) throws {
        registry.register(channel)
        let connection = ConnectionGuard(limits: limits, metrics: metrics, logger: logger)
        let rawBytes = connection.makeRawBytesHandler()
        let (http1, webSocket, http2, maxHeadBytes) = (self.http1, self.webSocket, self.http2, limits.maxHeaderBytes)
        // Behind the decoder Hummingbird's WebSocket channel adds, the guard's view of requests
        // and responses.
        func guarded<Value>(_ channel: any Channel, _ value: Value) throws -> Value {
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(connection.makeRequestPartsHandler(), position: .after(decoder))
            return value
        }
        let selector = HTTPVersionSelector<HTTP1Choice, HTTP2Connection.Multiplexer>(
            tls: tls != nil, maxHeadBytes: maxHeadBytes, chosen: chosen,
            configureHTTP1: { upgrade, channel in
                if upgrade {
                    return .pending(webSocket.setup(channel: channel, logger: logger).assumeIsolated()
                        .flatMapThrowing { .webSocket(try guarded(channel, $0)) }.nonisolated())
                }
                // The plain pipeline is added in place: the hand-off needs no future.
                do {
                    try Self.addHTTP1Handlers(to: channel, responder: http1, maxHeadBytes: maxHeadBytes, logger: logger,
                                              guardedBy: connection)
                    return .done(.plain)
                } catch {
                    return .failed(error)
                }
            },
            configureHTTP2: { channel in
                // HTTP/2 frames are no HTTP/1.1 heads: the guard leaves, each stream gets its own.
                channel.pipeline.syncOperations.removeHandler(rawBytes, promise: nil)
                return http2.setup(channel: channel, logger: logger)
            })
        let pipeline = channel.pipeline.syncOperations
        // Set here rather than as a bootstrap option, which NIO applies through a future per
        // connection.
        try channel.syncOptions?.setOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        if let tls {
            let handler = NIOSSLServerHandler(context: tls.context)
            let coalescer = TLSWriteCoalescer()
            try pipeline.addHandler(handler, position: .first)
            try pipeline.addHandler(coalescer, position: .after(handler))
            try pipeline.addHandler(rawBytes, position: .after(coalescer))
        } else {
            try pipeline.addHandler(rawBytes, position: .first)
        }
        try pipeline.addHandler(selector, position: .after(rawBytes))
    }

    /// The responder's ``HTTP1FrontLane`` (when it has one and a guard is given), NIO's HTTP/1.1
    /// decoder and encoder, the guard's `requestParts` handler right behind the decoder when
    /// given, the conversion to HTTP types and the ``HTTP1Connection`` that serves the requests.
    /// Behind a lane, the decoder and what follows it up to the connection's layer are added
    /// only when the lane first hands something on (Docs/adr/0011-event-streams-in-front-of-the-decoder.md).
    static func addHTTP1Handlers(to channel: any Channel, responder: HTTP1Responder, maxHeadBytes: Int,
                                 logger: Logger, guardedBy connection: ConnectionGuard? = nil) throws {
        let pipeline = channel.pipeline.syncOperations
        let http1 = HTTP1Connection(responder: responder, eventLoop: channel.eventLoop, logger: logger)
        if let front = responder.front, let connection {
            let lane = HTTP1FrontLane(connection: connection, http1: http1, maxHeadBytes: maxHeadBytes, addDecoder: { _ in
                try LogServerChannel.addDecoder(to: pipeline, before: http1, maxHeadBytes: maxHeadBytes, guardedBy: connection)
            }, respond: front)
            try pipeline.addHandler(lane)
            try pipeline.addHandler(http1)
            return
        }
        try addDecoder(to: pipeline, before: nil, maxHeadBytes: maxHeadBytes, guardedBy: connection)
        try pipeline.addHandler(http1)
    }

    /// NIO's HTTP/1.1 encoder and decoder, the guard's `requestParts` handler right behind the
    /// decoder when given, and the conversion to HTTP types: before `http1`, else last.
    private static func addDecoder(to pipeline: ChannelPipeline.SynchronousOperations, before http1: HTTP1Connection?,
                                   maxHeadBytes: Int, guardedBy connection: ConnectionGuard?) throws {
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = maxHeadBytes
        decoderLimits.maxHeaderListSize = maxHeadBytes
        let position: ChannelPipeline.SynchronousOperations.Position = http1.map { .before($0) } ?? .last
        try pipeline.configureHTTPServerPipeline(
            position: position,
            withPipeliningAssistance: false,  // HTTP1Connection answers pipelined requests in order
            withErrorHandling: false,  // the ConnectionGuard answers a malformed head
            withOutboundHeaderValidation: false,  // HTTP types validate the fields
            withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits)
        // The decoder is right before `position` now: the guard's view of requests and
        // responses goes right after it.
        if let connection { try pipeline.addHandler(connection.makeRequestPartsHandler(), position: position) }
        try pipeline.addHandler(HTTP1TypesCodec(secure: false), position: position)
    }

    /// Serves a connection with no task of its own until it needs one: an HTTP/1.1 connection
    /// is served by its pipeline (``HTTP1Connection``); a WebSocket or an HTTP/2 connection gets
    /// a task on its event loop once its pipeline is chosen (``HTTPListener``). Called with
    /// the outcome of ``configure(_:logger:chosen:)``.
    func serve(_ chosen: Result<Negotiated, any Error>, on eventLoop: any EventLoop, logger: Logger) {
        switch chosen {
        case .success(.http1(.plain)):
            return
        case .success(.http1(.webSocket(let connection))):
            Task(executorPreference: EventLoopTaskExecutor(eventLoop)) { await webSocket.handle(value: connection, logger: logger) }
        case .success(.http2(let multiplexer)):
            Task(executorPreference: EventLoopTaskExecutor(eventLoop)) { await http2.handle(multiplexer, logger: logger) }
        case .failure:
            return  // closed before its pipeline was chosen
        }
    }

    func handle(value: Value, logger: Logger) async {
        // The connection's task runs on its event loop (EventLoopTaskExecutor.swift, ADR 0004).
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await handleOnEventLoop(value: value, logger: logger)
        }
    }

    private func handleOnEventLoop(value: Value, logger: Logger) async {
        let negotiated: Negotiated
        do {
            negotiated = try await value.negotiated.get()
        } catch {
            logger.debug("A connection closed before its pipeline was chosen", metadata: ["error": "\(error)"])
            return
        }
        switch negotiated {
        case .http1(.plain): return  // served by its pipeline
        case .http1(.webSocket(let connection)): await webSocket.handle(value: connection, logger: logger)
        case .http2(let multiplexer): await http2.handle(multiplexer, logger: logger)
        }
    }
}
