import NIOCore
import NIOHTTP2

/// Closes an HTTP/2 connection that has had no open stream for the idle timeout, as an idle
/// HTTP/1.1 keep-alive connection is closed: `GOAWAY(NO_ERROR)` naming the last stream it
/// served, then the close, without waiting for the client.
///
/// SwiftNIO's connection manager has an idle timer too, but its graceful close waits for the
/// client to acknowledge a `PING` first: a client that sent the preface and went silent would
/// hold its connection for ever. This handler needs nothing from the client. It learns of
/// streams from the HTTP/2 handler's stream delegate (``StreamEvents``), on the event loop.
final class HTTP2IdleGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let idleTimeout: TimeAmount
    private let metrics: ServerMetrics
    private var openStreams = 0
    private var lastStream = HTTP2StreamID.rootStream
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount, metrics: ServerMetrics) {
        self.idleTimeout = idleTimeout
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { schedule(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        schedule(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func streamCreated(_ id: HTTP2StreamID) {
        openStreams += 1
        lastStream = max(lastStream, id)
        cancel()
    }

    func streamClosed(context: ChannelHandlerContext?) {
        openStreams = max(0, openStreams - 1)
        if openStreams == 0, let context { schedule(context: context) }
    }

    private func schedule(context: ChannelHandlerContext) {
        cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: idleTimeout) {
            let (handler, context) = bound.value
            handler.timer = nil
            guard handler.openStreams == 0 else { return }
            handler.metrics.connectionClosed(reason: "idle")
            let goAway = HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: handler.lastStream, errorCode: .noError, opaqueData: nil))
            context.writeAndFlush(handler.wrapOutboundOut(goAway)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    private func cancel() {
        timer?.cancel()
        timer = nil
    }
}

@available(*, unavailable)
extension HTTP2IdleGuard: Sendable {}

extension HTTP2IdleGuard {
    /// The HTTP/2 handler's stream delegate: tells the connection manager and the idle guard
    /// of every stream opened and closed (both run on the connection's event loop).
    struct StreamEvents: NIOHTTP2StreamDelegate {
        let manager: NIOHTTP2ServerConnectionManagementHandler.HTTP2StreamDelegate
        let idle: NIOLoopBound<HTTP2IdleGuard>

        func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
            manager.streamCreated(id, channel: channel)
            idle.value.streamCreated(id)
        }

        func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
            manager.streamClosed(id, channel: channel)
            idle.value.streamClosed(context: idle.value.context)
        }
    }
}
