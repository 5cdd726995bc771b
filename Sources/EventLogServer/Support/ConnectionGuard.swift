import Logging
import NIOCore
import NIOHTTP1

/// What one HTTP/1.1 connection (or HTTP/2 stream, ``HTTP2StreamGuard``) may do below the routes; see ``ConnectionGuard``.
struct ConnectionLimits: Sendable {
    /// The largest request head (request line and headers, with their line ends).
    var maxHeaderBytes: Int
    /// How long a request head may take from its first byte to its blank line.
    var headerTimeout: TimeAmount
    /// How long a connection may stay silent between requests, or in the middle of a body.
    var idleTimeout: TimeAmount
    /// How long a refused connection is drained after its answer before it is closed, so that
    /// the client reads the answer rather than a reset.
    var lingerTimeout: TimeAmount = .seconds(2)
}

/// Guards one HTTP/1.1 connection below the routes, from its accept to its close.
///
/// - A new connection, or one between requests, that stays silent for the idle timeout is closed.
/// - A request head must arrive whole within the header timeout of its first byte, else
///   `408 request_timeout`; and within ``ConnectionLimits/maxHeaderBytes``, request line
///   included, else `431 headers_too_large`. A slowloris client holds a connection for the
///   header timeout at most.
/// - A head the HTTP decoder cannot parse (a bad `Content-Length`, a malformed line) is
///   `400 invalid_request`; one it finds too large is `431`.
/// - A body that stalls for the idle timeout fails with ``BodyStalled``, which the route
///   answers `408` (a body cut short fails with the decoder's error, answered `400`): the
///   route never sees a truncated body as a whole one.
/// - After a response, when the request or the response said `Connection: close` (a `413`
///   does), the output is shut and the connection closed after the linger: Hummingbird alone
///   keeps it open, unread, while the client is still sending a body.
/// - An `Upgrade` to anything but a WebSocket (`h2c`) is declined: the header is removed and
///   the request answered over HTTP/1.1.
/// - On graceful shutdown (`ChannelShouldQuiesceEvent`), a connection with no request in
///   progress, including one still sending a head, is closed at once.
///
/// A refusal is answered JSON with `Connection: close` below the HTTP encoder, the output is
/// shut, the input drained for ``ConnectionLimits/lingerTimeout``, then the connection closed.
/// A connection that a response is being written on is not timed here: the stuck-stream
/// timeout and each route's own bound (`wait_ms`) apply.
///
/// Two handlers share the guard: ``RawBytes`` at the front of the pipeline sees every byte
/// the client sends before the decoder does; ``RequestParts`` right after the decoder sees
/// where requests and responses begin and end. Both run on the connection's event loop, as do
/// the timers, so the state needs no lock. A WebSocket upgrade hands the connection over to
/// the WebSocket code (its own stuck-stream timeout): the guard stands aside.
final class ConnectionGuard {
    /// The error a stalled body's reader gets.
    struct BodyStalled: Error {}

    private enum Phase {
        /// Requests are served.
        case serving
        /// A refusal was sent (or a body failed): the input is drained until the close.
        case refused
        /// A WebSocket upgrade was asked for: nothing is checked any more.
        case upgraded
        /// Closed, or closing.
        case closed
    }

    private let limits: ConnectionLimits
    private let metrics: ServerMetrics
    private let logger: Logger

    private var phase = Phase.serving
    /// Request heads decoded so far on this connection.
    private var requestsSeen = 0
    /// Whether a request's head has been decoded and its end not yet.
    private var readingBody = false
    /// Whether the client closed its side (or the server shut the input): nothing to drain.
    private var inputClosed = false
    /// Whether Hummingbird's upgrade negotiation, which waits for the first head, was ended.
    private var negotiationEnded = false
    /// Requests whose response has not ended yet.
    private var pendingResponses = 0
    /// Whether a response's head has been written and its end not yet.
    private var responseStarted = false
    /// Whether the connection ends after the current response: the request or the response
    /// said `Connection: close` (Hummingbird honours neither by itself while a body is unread).
    private var closeAfterResponse = false
    /// The bytes of a request head that has begun and not ended; `nil` between heads.
    private var headBytes: Int?
    /// How many bytes of the blank line ending a head (`\r\n\r\n`) the last read ended with.
    private var endMatched = 0
    private var headStarted = NIODeadline.now()
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var rawContext: ChannelHandlerContext?
    private var partsContext: ChannelHandlerContext?

    init(limits: ConnectionLimits, metrics: ServerMetrics, logger: Logger) {
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    /// The handler for the front of the pipeline.
    func makeRawBytesHandler() -> RawBytes { RawBytes(self) }
    /// The handler for just after the HTTP request decoder.
    func makeRequestPartsHandler() -> RequestParts { RequestParts(self) }

    // MARK: Events

    private func started() {
        guard phase == .serving, timer == nil else { return }
        lastActivity = .now()
        // The first timer is the idle deadline's. (Set at the header timeout instead, it fired
        // ~10 s after every connection's start and found a stream being answered: 10,000 idle
        // streams spent 1.3 % of a core over 20 s on those firings, against 0.1 % without,
        // `kp2.sh … 10000 3600 20`.)
        reschedule()
    }

    private func stopped() {
        phase = .closed
        cancelTimer()
    }

    /// Bytes arrived; returns whether they may go on to the decoder (else the connection was refused).
    private func bytesArrived(_ buffer: ByteBuffer) -> Bool {
        lastActivity = .now()
        guard !readingBody else { return true }
        if headBytes == nil {
            headBytes = 0
            headStarted = lastActivity
            endMatched = 0
        }
        // Measure the head up to its blank line; what follows is body or the next request.
        let (consumed, ended) = buffer.withUnsafeReadableBytes { bytes -> (Int, Bool) in
            var matched = endMatched
            for (i, byte) in bytes.enumerated() {
                switch (matched, byte) {
                case (0, 0x0D), (2, 0x0D): matched += 1
                case (1, 0x0A), (3, 0x0A): matched += 1
                case (_, 0x0D): matched = 1
                default: matched = 0
                }
                if matched == 4 { return (i + 1, true) }
            }
            endMatched = matched
            return (bytes.count, false)
        }
        let total = headBytes! + consumed
        if total > limits.maxHeaderBytes {
            refuse(APIError(.headersTooLarge, "The request head has more than the \(limits.maxHeaderBytes) bytes this server accepts."))
            return false
        }
        if ended {
            headBytes = nil
            endMatched = 0
        } else {
            headBytes = total
        }
        reschedule()
        return true
    }

    private func headDecoded(keepAlive: Bool) {
        if !keepAlive { closeAfterResponse = true }
        requestsSeen += 1
        readingBody = true
        pendingResponses += 1
        headBytes = nil
        endMatched = 0
        reschedule()
    }

    private func requestEnded() {
        readingBody = false
        reschedule()
    }

    private func responseHeadWritten(closing: Bool) {
        responseStarted = true
        if closing { closeAfterResponse = true }
    }

    /// A keep-alive request was answered whole in front of the decoder (``HTTP1FrontLane``),
    /// in the read that brought it: as if its head and end had been decoded and its answer's
    /// head and end written. Of the guard's state only the request count changes: the bytes'
    /// arrival already set the time of the last activity and the idle deadline.
    func answeredInFront() {
        requestsSeen += 1
    }

    /// A keep-alive request read whole in front of the decoder waits for its answer (an
    /// append that syncs): as if its head and end had been decoded. Until
    /// ``frontRequestAnswered()``, the connection is answering: not idle, not closed by a
    /// graceful shutdown.
    func frontRequestStarted() {
        requestsSeen += 1
        pendingResponses += 1
    }

    /// The answer of ``frontRequestStarted()``'s request was written.
    func frontRequestAnswered() {
        pendingResponses = max(0, pendingResponses - 1)
        lastActivity = .now()
        reschedule()
    }

    /// A response ended; returns whether the connection is to close once it is written.
    private func responseEnded() -> Bool {
        responseStarted = false
        pendingResponses = max(0, pendingResponses - 1)
        lastActivity = .now()
        if headBytes != nil { headStarted = lastActivity }  // a pipelined head's time starts now
        reschedule()
        return closeAfterResponse && phase == .serving
    }

    /// The last response is written: shut the output, drain what the client still sends (an
    /// unread body) for the linger timeout, then close.
    private func responseWrittenBeforeClose() {
        guard phase == .serving, let context = rawContext else { return }
        phase = .refused
        cancelTimer()
        linger(context)
        shutOutput(context)
    }

    /// A decoder error: refused here when it concerns a head (and absorbed once the connection
    /// is refused or closed). A body's error always goes on to its reader, which must never
    /// take a body cut short for a whole one.
    private func decoderFailed(_ error: HTTPParserError) -> Bool {
        guard !readingBody else { return false }
        switch phase {
        case .serving: break
        case .refused, .closed: return true
        case .upgraded: return false
        }
        if error == .headerOverflow {
            refuse(APIError(.headersTooLarge, "The request head has more than the \(limits.maxHeaderBytes) bytes this server accepts."))
        } else {
            refuse(APIError(.invalidRequest, "The request is not valid HTTP/1.1 (\(error))."))
        }
        return true
    }

    private func quiesce() {
        guard phase == .serving, pendingResponses == 0, !readingBody else { return }
        close(reason: "shutdown")
    }

    // MARK: Timers

    /// When the current wait ends, if anything is waited for.
    private func nextDeadline() -> NIODeadline? {
        guard phase == .serving else { return nil }
        if headBytes != nil, pendingResponses == 0 { return headStarted + limits.headerTimeout }
        if readingBody { return lastActivity + limits.idleTimeout }
        if pendingResponses > 0 { return nil }  // answering: the stream's and route's own bounds apply
        return lastActivity + limits.idleTimeout
    }

    /// Keeps one timer at the next deadline; an earlier timer stays and checks again when it
    /// fires. With nothing to wait for (a request being answered) the timer is left to fire
    /// and find nothing: cancelling it and scheduling a new one at the answer's end cost each
    /// keep-alive request two scheduled-task operations (2.7 % of a single-record produce's
    /// CPU, `perf`).
    private func reschedule() {
        guard let deadline = nextDeadline() else { return }
        if timer != nil, let timerDeadline, timerDeadline <= deadline { return }
        cancelTimer()
        guard let eventLoop = rawContext?.eventLoop ?? partsContext?.eventLoop else { return }
        timerDeadline = deadline
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerDeadline = nil
            timerFired()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    private func timerFired() {
        guard let deadline = nextDeadline() else { return }
        guard NIODeadline.now() >= deadline else { return reschedule() }
        if headBytes != nil {
            refuse(APIError(.requestTimeout, "The request head did not arrive within \(Self.seconds(limits.headerTimeout)) s."))
        } else if readingBody {
            bodyStalled()
        } else {
            close(reason: "idle")
        }
    }

    // MARK: Refusing and closing

    /// Answers `error` below the encoder (unless a response is being written), shuts the
    /// output, drains the input for the linger timeout, then closes.
    private func refuse(_ error: APIError) {
        guard phase == .serving, let context = rawContext else { return }
        phase = .refused
        cancelTimer()
        metrics.recordError(code: error.code.name)
        metrics.connectionClosed(reason: error.code.name)
        logger.debug("Refused a request on its connection", metadata: ["error": "\(error.code.name)"])
        guard !responseStarted else { return finish() }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(error.closingAnswer), promise: promise)
        linger(context)
        promise.futureResult.assumeIsolated().whenComplete { [self] _ in
            shutOutput(context)
        }
        endNegotiation()
    }

    /// Drains the input (reading even when no one upstream asks for more) until the client
    /// closes its side or the linger timeout passes, then closes. The answer being written
    /// meanwhile goes out first (``shutOutput(_:)``); one the client never reads is dropped
    /// at the timeout.
    private func linger(_ context: ChannelHandlerContext) {
        context.read()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.lingerTimeout) { [self] in
            timer = nil
            finish()
        }
    }

    /// The last answer is written: the client sees the end of the output, and when it has
    /// already closed its side there is nothing left to wait for.
    private func shutOutput(_ context: ChannelHandlerContext) {
        guard phase == .refused else { return }
        if inputClosed { return finish() }
        context.close(mode: .output, promise: nil)
    }

    /// A body stalled: its reader fails (the route answers `408`), and the connection is
    /// closed after the linger timeout whatever the route does.
    private func bodyStalled() {
        guard phase == .serving, let context = partsContext ?? rawContext else { return }
        phase = .refused
        metrics.connectionClosed(reason: "body_timeout")
        logger.debug("A request body stalled for the idle timeout")
        context.fireErrorCaught(BodyStalled())
        if let rawContext { linger(rawContext) }
    }

    private func close(reason: String) {
        guard phase == .serving else { return }
        metrics.connectionClosed(reason: reason)
        logger.debug("Closing a connection", metadata: ["reason": "\(reason)"])
        finish()
    }

    /// Closes the connection.
    private func finish() {
        guard phase != .closed else { return }
        phase = .closed
        cancelTimer()
        endNegotiation()
        (rawContext ?? partsContext)?.close(promise: nil)
    }

    /// Before its first request, a connection's HTTP upgrade negotiation (Hummingbird's) waits
    /// for a head, and fails loudly when the connection closes under it. It is told the input
    /// ended instead, so it gives up quietly; the close it then asks for waits for the end of
    /// a refusal's linger (``RequestParts`` holds it back).
    private func endNegotiation() {
        guard requestsSeen == 0, !negotiationEnded, let partsContext else { return }
        negotiationEnded = true
        partsContext.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    private static func seconds(_ amount: TimeAmount) -> String {
        let ms = amount.nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)" : "\(Double(ms) / 1000)"
    }
}

extension ConnectionGuard {
    /// The front of the pipeline: every byte the client sends, before the HTTP decoder.
    final class RawBytes: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private let connection: ConnectionGuard

        fileprivate init(_ connection: ConnectionGuard) { self.connection = connection }

        func handlerAdded(context: ChannelHandlerContext) {
            connection.rawContext = context
            if context.channel.isActive { connection.started() }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            connection.stopped()
            connection.rawContext = nil
        }

        func channelActive(context: ChannelHandlerContext) {
            connection.started()
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            connection.stopped()
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch connection.phase {
            case .refused, .closed: return  // drained
            case .upgraded: return context.fireChannelRead(data)
            case .serving: break
            }
            guard connection.bytesArrived(unwrapInboundIn(data)) else { return }
            context.fireChannelRead(data)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            // Draining: keep reading even when no one upstream asks for more.
            if connection.phase == .refused { context.read() }
            context.fireChannelReadComplete()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed {
                connection.inputClosed = true
                // A refused client that closed its side: nothing left to drain.
                if connection.phase == .refused { return connection.finish() }
            }
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Just after the HTTP decoder: where requests and responses begin and end.
    final class RequestParts: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart

        private let connection: ConnectionGuard

        fileprivate init(_ connection: ConnectionGuard) { self.connection = connection }

        func handlerAdded(context: ChannelHandlerContext) {
            connection.partsContext = context
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            connection.partsContext = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(var head):
                connection.headDecoded(keepAlive: head.isKeepAlive)
                // The first request may upgrade to a WebSocket: the upgrade code then takes the
                // connection (and removes the decoder); this handler steps out of the way first.
                if connection.requestsSeen == 1, head.headers["upgrade"].contains(where: { $0.lowercased() == "websocket" }) {
                    connection.phase = .upgraded
                    connection.cancelTimer()
                    context.fireChannelRead(data)
                    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                    return
                }
                // Any other upgrade (`h2c`, as `curl --http2` asks) is declined: the request is
                // answered over HTTP/1.1 (RFC 9110 §7.8 lets a server ignore `Upgrade`). The
                // header goes, since NIO's upgrade handler drops a request whose upgrade it cannot do.
                if head.headers.contains(name: "upgrade") {
                    head.headers.remove(name: "upgrade")
                    return context.fireChannelRead(wrapInboundOut(.head(head)))
                }
            case .body:
                break
            case .end:
                connection.requestEnded()
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            switch unwrapOutboundIn(data) {
            case .head(let head) where head.status.code >= 200:
                let closing = head.headers["connection"].contains { $0.lowercased().contains("close") }
                connection.responseHeadWritten(closing: closing)
            case .head, .body:
                break
            case .end:
                if connection.responseEnded() {
                    let written = promise ?? context.eventLoop.makePromise()
                    context.write(data, promise: written)
                    written.futureResult.assumeIsolated().whenComplete { _ in self.connection.responseWrittenBeforeClose() }
                    return
                }
            }
            context.write(data, promise: promise)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if let error = error as? HTTPParserError, connection.decoderFailed(error) { return }
            context.fireErrorCaught(error)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { connection.quiesce() }
            context.fireUserInboundEventTriggered(event)
        }

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            // A refusal's answer is still draining: the guard closes the connection after its linger.
            if connection.phase == .refused, mode == .all {
                promise?.succeed()
                return
            }
            context.close(mode: mode, promise: promise)
        }
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}
