import NIOCore
import NIOHTTP2

/// Bounds an HTTP/2 connection's life below the streams, without relying on the client:
///
/// - With no open stream for the idle timeout, the connection is sent `GOAWAY(NO_ERROR)`
///   naming the last stream it served, and closed, as an idle HTTP/1.1 keep-alive connection is.
/// - Once it is told to wind down (`ChannelShouldQuiesceEvent`: a graceful shutdown, or a
///   request over ``LogServerConfiguration/maxConnections``), it is closed as soon as it has no
///   open stream, and after the grace period whatever its streams do.
///
/// SwiftNIO's connection manager, in front of this handler, sends the `GOAWAY`s of a graceful
/// close, but its idle close and its grace period wait for the client to acknowledge a `PING`
/// first, and after its `GOAWAY` SwiftNIO treats the frames a client still sends as errors: a
/// client that sent the preface and went silent, or that ignores the `PING`, would hold its
/// connection for ever. This handler learns of streams from the HTTP/2 handler's stream
/// delegate (``StreamEvents``), on the connection's event loop.
final class HTTP2ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let idleTimeout: TimeAmount
    private let gracePeriod: TimeAmount
    private let metrics: ServerMetrics
    private var openStreams = 0
    private var lastStream = HTTP2StreamID.rootStream
    private var quiescing = false
    private var idleTimer: Scheduled<Void>?
    private var graceTimer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount, gracePeriod: TimeAmount, metrics: ServerMetrics) {
        self.idleTimeout = idleTimeout
        self.gracePeriod = gracePeriod
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { scheduleIdle() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        scheduleIdle()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)  // the manager, in front, has sent its GOAWAY
        guard event is ChannelShouldQuiesceEvent, !quiescing else { return }
        quiescing = true
        idleTimer?.cancel()
        idleTimer = nil
        if openStreams == 0 { return closeSoon() }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        graceTimer = context.eventLoop.scheduleTask(in: gracePeriod) {
            bound.value.context?.close(promise: nil)
        }
    }

    private func streamCreated(_ id: HTTP2StreamID) {
        openStreams += 1
        lastStream = max(lastStream, id)
        idleTimer?.cancel()
        idleTimer = nil
    }

    private func streamClosed() {
        openStreams = max(0, openStreams - 1)
        guard openStreams == 0 else { return }
        if quiescing { closeSoon() } else { scheduleIdle() }
    }

    private func scheduleIdle() {
        guard let context, !quiescing else { return }
        idleTimer?.cancel()
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: idleTimeout) {
            let handler = bound.value
            handler.idleTimer = nil
            guard handler.openStreams == 0, let context = handler.context else { return }
            handler.metrics.connectionClosed(reason: "idle")
            let goAway = HTTP2Frame(streamID: .rootStream,
                                    payload: .goAway(lastStreamID: handler.lastStream, errorCode: .noError, opaqueData: nil))
            context.writeAndFlush(handler.wrapOutboundOut(goAway)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    /// Closes on the next tick of the event loop, so that the frames just written (a stream's
    /// end, a `GOAWAY`) are flushed first.
    private func closeSoon() {
        guard let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            bound.value.context?.close(promise: nil)
        }
    }

    private func cancelTimers() {
        idleTimer?.cancel()
        idleTimer = nil
        graceTimer?.cancel()
        graceTimer = nil
    }
}

@available(*, unavailable)
extension HTTP2ConnectionGuard: Sendable {}

extension HTTP2ConnectionGuard {
    /// The HTTP/2 handler's stream delegate: tells the connection manager and the guard of
    /// every stream opened and closed (both run on the connection's event loop).
    struct StreamEvents: NIOHTTP2StreamDelegate {
        let manager: NIOHTTP2ServerConnectionManagementHandler.HTTP2StreamDelegate
        let connection: NIOLoopBound<HTTP2ConnectionGuard>

        func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
            manager.streamCreated(id, channel: channel)
            connection.value.streamCreated(id)
        }

        func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
            manager.streamClosed(id, channel: channel)
            connection.value.streamClosed()
        }
    }
}
