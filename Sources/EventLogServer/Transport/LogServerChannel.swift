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
/// HTTPVersionSelector        ALPN, else HTTP/2's preface (h2c): chooses, sets up, leaves
/// ConnectionGuard.RawBytes   HTTP/1.1 only (removed for HTTP/2): head size and time, idleness
/// FirstRequestSniffer        HTTP/1.1: waits for the first head; WebSocket-capable or plain; leaves
/// HTTP/1.1: Hummingbird's decoder, ConnectionGuard.RequestParts, encoder, [WebSocket upgrade], …
/// HTTP/2:   NIOHTTP2Handler, connection manager, HTTP2ConnectionGuard; per stream HTTP2StreamGuard, codec, …
/// ```
///
/// Every connection is counted in the ``ConnectionRegistry`` from its accept, and guarded
/// from its accept: the ``ConnectionGuard`` is there (and its idle timer running) before the
/// TLS handshake or the first byte, so a silent connection is closed after the idle timeout
/// whichever protocol it would have spoken.
struct LogServerChannel: ServerChildChannel {
    /// The HTTP/1.1 pipeline a connection's first request asked for (``FirstRequestSniffer``).
    enum HTTP1Choice: Sendable {
        case plain(HTTP1Channel.Value)
        case webSocket(HTTP1WebSocketUpgradeChannel.Value)
    }

    typealias Negotiated = NegotiatedHTTPVersion<EventLoopFuture<HTTP1Choice>, HTTP2Connection.Multiplexer>

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    /// HTTP/1.1 for connections whose first request asks for no upgrade.
    let http1: HTTP1Channel
    /// HTTP/1.1 with WebSocket upgrades, for connections whose first request has `Upgrade`.
    let webSocket: HTTP1WebSocketUpgradeChannel
    let http2: HTTP2Connection
    /// `nil`: plain TCP.
    let tls: TLSCredentials?
    let limits: ConnectionLimits
    let registry: ConnectionRegistry
    let metrics: ServerMetrics

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        registry.register(channel)
        let connection = ConnectionGuard(limits: limits, metrics: metrics, logger: logger)
        let rawBytes = connection.makeRawBytesHandler()
        let promise = channel.eventLoop.makePromise(of: Negotiated.self)
        let (http1, webSocket, http2, maxHeadBytes) = (self.http1, self.webSocket, self.http2, limits.maxHeaderBytes)
        // Behind the decoder Hummingbird adds, the guard's view of requests and responses.
        func guarded<Value>(_ channel: any Channel, _ value: Value) throws -> Value {
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(connection.makeRequestPartsHandler(), position: .after(decoder))
            return value
        }
        let selector = HTTPVersionSelector<EventLoopFuture<HTTP1Choice>, HTTP2Connection.Multiplexer>(
            tls: tls != nil, promise: promise,
            configureHTTP1: { channel in
                let choice = channel.eventLoop.makePromise(of: HTTP1Choice.self)
                let sniffer = FirstRequestSniffer<HTTP1Choice>(maxHeadBytes: maxHeadBytes, promise: choice) { upgrade, channel in
                    if upgrade {
                        return webSocket.setup(channel: channel, logger: logger).assumeIsolated()
                            .flatMapThrowing { .webSocket(try guarded(channel, $0)) }.nonisolated()
                    }
                    return http1.setup(channel: channel, logger: logger).assumeIsolated()
                        .flatMapThrowing { .plain(try guarded(channel, $0)) }.nonisolated()
                }
                do {
                    try channel.pipeline.syncOperations.addHandler(sniffer, position: .after(rawBytes))
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return channel.eventLoop.makeSucceededFuture(choice.futureResult)
            },
            configureHTTP2: { channel in
                // HTTP/2 frames are no HTTP/1.1 heads: the guard leaves, each stream gets its own.
                channel.pipeline.syncOperations.removeHandler(rawBytes, promise: nil)
                return http2.setup(channel: channel, logger: logger)
            })
        do {
            let pipeline = channel.pipeline.syncOperations
            if let tls {
                let handler = NIOSSLServerHandler(context: tls.context)
                let coalescer = TLSWriteCoalescer()
                try pipeline.addHandler(handler, position: .first)
                try pipeline.addHandler(coalescer, position: .after(handler))
                try pipeline.addHandler(selector, position: .after(coalescer))
            } else {
                try pipeline.addHandler(selector, position: .first)
            }
            try pipeline.addHandler(rawBytes, position: .after(selector))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return channel.eventLoop.makeSucceededFuture(Value(negotiated: promise.futureResult, channel: channel))
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
            logger.debug("A connection closed before its HTTP version was known", metadata: ["error": "\(error)"])
            return
        }
        switch negotiated {
        case .http1(let choice):
            switch try? await choice.get() {
            case .plain(let connection)?: await http1.handle(value: connection, logger: logger)
            case .webSocket(let connection)?: await webSocket.handle(value: connection, logger: logger)
            case nil: logger.debug("A connection closed before its first request was whole")
            }
        case .http2(let multiplexer): await http2.handle(multiplexer, logger: logger)
        }
    }
}
