import Logging
import NIOCore
import NIOHTTP2

/// An HTTP/2 connection (over TLS after ALPN `h2`, or h2c with prior knowledge): SwiftNIO's
/// HTTP/2 handler and connection manager, and one ``HTTP2RequestStream`` per stream.
///
/// - At most ``LogServerConfiguration/http2MaxConcurrentStreams`` streams at once
///   (`SETTINGS_MAX_CONCURRENT_STREAMS`); a client that opens more gets them refused
///   (`RST_STREAM(REFUSED_STREAM)`, or the connection ends with a `PROTOCOL_ERROR`), so one
///   connection cannot grow the server's tables without bound. Floods of resets, control
///   frames and `CONTINUATION`s are bounded by SwiftNIO's own limits.
/// - A connection with no open stream for ``LogServerConfiguration/idleTimeout`` is closed
///   (`GOAWAY`), as an idle HTTP/1.1 keep-alive connection is.
/// - On graceful shutdown (`ChannelShouldQuiesceEvent`) it sends `GOAWAY`, lets open streams
///   end (streams end at once), and is closed after
///   ``LogServerConfiguration/shutdownGracePeriod`` at the latest.
/// - Header lists are advertised (`SETTINGS_MAX_HEADER_LIST_SIZE`) and decoded up to twice
///   ``LogServerConfiguration/maxHeaderBytes``: a head over the limit but within that is
///   answered `431` on its own stream; a larger one ends the connection.
struct HTTP2Connection: Sendable {
    typealias Multiplexer = NIOHTTP2Handler.AsyncStreamMultiplexer<HTTP2RequestStream.Value>

    let stream: HTTP2RequestStream
    let handlerConfiguration: NIOHTTP2Handler.Configuration
    let managementConfiguration: NIOHTTP2ServerConnectionManagementHandler.Configuration

    init(stream: HTTP2RequestStream, configuration: LogServerConfiguration) {
        self.stream = stream
        var handler = NIOHTTP2Handler.Configuration()
        handler.connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: configuration.http2MaxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 2 * configuration.maxHeaderBytes),
        ]
        self.handlerConfiguration = handler
        self.managementConfiguration = .init(
            maxIdleTime: TimeAmount(configuration.idleTimeout),
            maxAge: nil,
            maxGraceTime: TimeAmount(configuration.shutdownGracePeriod),
            keepalive: nil)
    }

    /// Adds the HTTP/2 handlers to `channel`'s pipeline; must run on its event loop.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Multiplexer> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let multiplexer = try pipeline.configureAsyncHTTP2Pipeline(
                mode: .server,
                connectionManagerConfiguration: managementConfiguration,
                http2HandlerConfiguration: handlerConfiguration
            ) { streamChannel in
                stream.setup(channel: streamChannel, logger: logger)
            }
            // The connection manager starts its idle and grace timers on `channelActive`, which
            // came before the HTTP version was known: it is told again, and only it.
            if channel.isActive {
                try pipeline.context(handlerType: NIOHTTP2Handler.self).fireChannelActive()
            }
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
