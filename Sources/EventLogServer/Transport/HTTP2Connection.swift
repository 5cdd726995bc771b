import Logging
import NIOCore
import NIOHTTP2

/// An HTTP/2 connection (over TLS after ALPN `h2`, or h2c with prior knowledge): SwiftNIO's
/// HTTP/2 handler and connection manager, an ``HTTP2ConnectionGuard``, and one
/// ``HTTP2RequestStream`` per stream.
///
/// - At most ``LogServerConfiguration/http2MaxConcurrentStreams`` streams at once
///   (`SETTINGS_MAX_CONCURRENT_STREAMS`); a client that opens more gets them refused
///   (`RST_STREAM(REFUSED_STREAM)`, or the connection ends with a `PROTOCOL_ERROR`), so one
///   connection cannot grow the server's tables without bound. Floods of resets, control
///   frames and `CONTINUATION`s are bounded by SwiftNIO's own limits.
/// - A connection with no open stream for ``LogServerConfiguration/idleTimeout`` is sent
///   `GOAWAY` and closed, as an idle HTTP/1.1 keep-alive connection is (``HTTP2ConnectionGuard``).
/// - On graceful shutdown (`ChannelShouldQuiesceEvent`), or over
///   ``LogServerConfiguration/maxConnections``, it sends `GOAWAY`, lets open streams end (on
///   shutdown streams end at once) and is closed when none is left, or at the end of
///   ``LogServerConfiguration/shutdownGracePeriod`` whatever the client does.
/// - Header lists are advertised (`SETTINGS_MAX_HEADER_LIST_SIZE`) and decoded up to twice
///   ``LogServerConfiguration/maxHeaderBytes``: a head over the limit but within that is
///   answered `431` on its own stream; a larger one ends the connection.
struct HTTP2Connection: Sendable {
    typealias Multiplexer = NIOHTTP2Handler.AsyncStreamMultiplexer<HTTP2RequestStream.Value>

    let stream: HTTP2RequestStream
    let handlerConfiguration: NIOHTTP2Handler.Configuration
    let managementConfiguration: NIOHTTP2ServerConnectionManagementHandler.Configuration
    let idleTimeout: TimeAmount
    let gracePeriod: TimeAmount
    let metrics: ServerMetrics

    init(stream: HTTP2RequestStream, configuration: LogServerConfiguration, metrics: ServerMetrics) {
        self.stream = stream
        var handler = NIOHTTP2Handler.Configuration()
        handler.connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: configuration.http2MaxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 2 * configuration.maxHeaderBytes),
        ]
        self.handlerConfiguration = handler
        self.idleTimeout = TimeAmount(configuration.idleTimeout)
        self.gracePeriod = TimeAmount(configuration.shutdownGracePeriod)
        self.metrics = metrics
        self.managementConfiguration = .init(
            maxIdleTime: nil,  // HTTP2ConnectionGuard
            maxAge: nil,
            // After a GOAWAY (and the client's answer to its PING), open streams have this long.
            maxGraceTime: TimeAmount(configuration.shutdownGracePeriod),
            keepalive: nil)
    }

    /// Adds the HTTP/2 handlers to `channel`'s pipeline; must run on its event loop.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Multiplexer> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let manager = NIOHTTP2ServerConnectionManagementHandler(eventLoop: channel.eventLoop, configuration: managementConfiguration)
            let guardHandler = HTTP2ConnectionGuard(idleTimeout: idleTimeout, gracePeriod: gracePeriod, metrics: metrics)
            let events = HTTP2ConnectionGuard.StreamEvents(manager: manager.http2StreamDelegate,
                                                           connection: NIOLoopBound(guardHandler, eventLoop: channel.eventLoop))
            let multiplexer = try pipeline.configureAsyncHTTP2Pipeline(
                mode: .server, streamDelegate: events, configuration: handlerConfiguration
            ) { streamChannel in
                stream.setup(channel: streamChannel, logger: logger)
            }
            try pipeline.addHandler(manager)
            // Added to an active connection, it starts its idle timer at once (the manager's
            // own timers, which would start on `channelActive`, are not used).
            try pipeline.addHandler(guardHandler)
            return multiplexer
        }
    }

    /// Serves every stream the client opens, each in its own child task, until the connection ends.
    func handle(_ multiplexer: Multiplexer, logger: Logger) async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                for try await streamValue in multiplexer.inbound {
                    group.addTask { await stream.handle(value: streamValue, logger: logger) }
                }
            }
        } catch {
            logger.debug("An HTTP/2 connection ended", metadata: ["error": "\(error)"])
        }
    }
}
