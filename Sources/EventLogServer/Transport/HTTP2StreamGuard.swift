import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Guards one HTTP/2 stream (one request) as ``ConnectionGuard`` guards an HTTP/1.1
/// connection, at the front of the stream's pipeline, below the HTTP codec:
///
/// - A request head (its decoded header list, counted as RFC 9113 §6.5.2 does: each field's
///   name and value plus 32 bytes) over ``ConnectionLimits/maxHeaderBytes`` is answered
///   `431 headers_too_large` on its stream; the route never sees it, and the connection's
///   other streams go on.
/// - A request body that stalls for ``ConnectionLimits/idleTimeout`` fails with
///   ``ConnectionGuard/BodyStalled`` (the route answers `408`); the stream is reset after the
///   linger timeout whatever the route does.
/// - Hop-by-hop header fields (`Connection`, `Keep-Alive`, `Transfer-Encoding`, …), which
///   HTTP/1.1 answers carry and HTTP/2 forbids (RFC 9113 §8.2.2), are dropped from responses.
///   A `Connection: close` ends nothing here: it concerns a single request, and so does the stream.
/// - A response that ends before its request does (`413`, `408`, a refusal) ends the stream
///   with `RST_STREAM(NO_ERROR)`, so the client stops sending the body (RFC 9113 §8.1).
///
/// A stream that is answering is not timed here, as on HTTP/1.1: the stuck-stream timeout
/// (``StreamWriteDeadline``) and each route's own bound apply to the stream's channel.
final class HTTP2StreamGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// Response header fields that HTTP/2 forbids.
    static let hopByHopFields: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]

    private let limits: ConnectionLimits
    private let metrics: ServerMetrics
    private let logger: Logger

    /// Whether the request's head has arrived.
    private var headSeen = false
    /// Whether the request has ended (`END_STREAM` from the client).
    private var requestEnded = false
    /// Whether the response has ended (`END_STREAM` from the server).
    private var responseEnded = false
    /// Whether the request was refused here (or its body stalled): inbound frames are dropped.
    private var refused = false
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?

    init(limits: ConnectionLimits, metrics: ServerMetrics, logger: Logger) {
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let payload = unwrapInboundIn(data)
        switch payload {
        case .headers(let headers) where !headSeen:
            headSeen = true
            let size = Self.headerListSize(headers.headers)
            if size > limits.maxHeaderBytes {
                requestEnded = headers.endStream
                return refuse(APIError(.headersTooLarge, "The request head has more than the \(limits.maxHeaderBytes) bytes this server accepts."),
                              context: context)
            }
            if headers.endStream { requestEnded = true } else { bodyActivity(context: context) }
        case .headers(let trailers):
            if trailers.endStream { requestDone() }
        case .data(let data):
            if data.endStream { requestDone() } else { bodyActivity(context: context) }
        default:
            break
        }
        context.fireChannelRead(data)
    }

    /// The header list size of RFC 9113 §6.5.2: name and value octets plus 32 per field.
    static func headerListSize(_ headers: HPACKHeaders) -> Int {
        var size = 0
        for (name, value, _) in headers { size += name.utf8.count + value.utf8.count + 32 }
        return size
    }

    private func requestDone() {
        requestEnded = true
        cancelTimer()
    }

    private func bodyActivity(context: ChannelHandlerContext) {
        lastActivity = .now()
        guard timer == nil else { return }
        schedule(context: context, at: lastActivity + limits.idleTimeout)
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.timer = nil
            handler.timerFired(context: context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func timerFired(context: ChannelHandlerContext) {
        guard !requestEnded, !refused else { return }
        let deadline = lastActivity + limits.idleTimeout
        guard NIODeadline.now() >= deadline else { return schedule(context: context, at: deadline) }
        refused = true
        metrics.recordError(code: "request_timeout")
        logger.debug("An HTTP/2 request body stalled for the idle timeout")
        context.fireErrorCaught(ConnectionGuard.BodyStalled())
        // Whatever the route does with it, the stream ends after the linger.
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: limits.lingerTimeout) {
            bound.value.close(promise: nil)
        }
    }

    /// Answers `error` on this stream without the route, then ends the stream.
    private func refuse(_ error: APIError, context: ChannelHandlerContext) {
        refused = true
        cancelTimer()
        metrics.recordError(code: error.code.name)
        logger.debug("Refused an HTTP/2 request", metadata: ["error": "\(error.code.name)"])
        let body = error.body
        let head = HPACKHeaders([
            (":status", String(error.code.status.code)),
            ("content-type", "application/json"),
            ("content-length", String(body.count)),
        ])
        context.write(wrapOutboundOut(.headers(.init(headers: head))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        write(context: context, data: wrapOutboundOut(.data(.init(data: .byteBuffer(buffer), endStream: true))), promise: nil)
        context.flush()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var ends = false
        var payload = unwrapOutboundIn(data)
        switch payload {
        case .headers(var headers):
            if headers.headers.contains(where: { Self.hopByHopFields.contains($0.name.lowercased()) }) {
                headers.headers = HPACKHeaders(headers.headers.filter { !Self.hopByHopFields.contains($0.name.lowercased()) }
                    .map { ($0.name, $0.value) })
                payload = .headers(headers)
            }
            ends = headers.endStream
        case .data(let data):
            ends = data.endStream
        default:
            break
        }
        guard ends, !responseEnded else { return context.write(wrapOutboundOut(payload), promise: promise) }
        responseEnded = true
        guard !requestEnded else { return context.write(wrapOutboundOut(payload), promise: promise) }
        // The answer ends before the request: once it is written, tell the client to stop sending.
        let written = promise ?? context.eventLoop.makePromise()
        context.write(wrapOutboundOut(payload), promise: written)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        written.futureResult.whenSuccess {
            let (handler, context) = bound.value
            guard !handler.requestEnded else { return }
            handler.requestEnded = true
            handler.cancelTimer()
            context.writeAndFlush(handler.wrapOutboundOut(.rstStream(.noError)), promise: nil)
        }
    }
}

@available(*, unavailable)
extension HTTP2StreamGuard: Sendable {}
