import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// What answers a request on an ``HTTP1Connection``: the application's responder (the router,
/// its middleware and routes), with the connection's channel for the request's context.
///
/// It never throws: an error that no middleware turned into an answer is a `500`, as
/// Hummingbird's own application loop answers it.
struct HTTP1Responder: Sendable {
    let respond: @Sendable (_ request: Request, _ channel: any Channel, _ logger: Logger) async -> Response
    /// Answers the requests it knows without the responder, from the connection's event loop:
    /// `nil` for every other request (Docs/adr/0006-produce-shortcut.md,
    /// Docs/adr/0009-event-stream-shortcut.md).
    var shortcut: (@Sendable (_ head: HTTPRequest, _ body: ByteBuffer) -> HTTP1Shortcut?)?
    /// Answers the plain requests it knows in front of NIO's HTTP/1.1 decoder, from the read
    /// that brought them (``HTTP1FrontLane``, Docs/adr/0008-produce-front-lane.md): `nil`, or
    /// an answer that must wait, for every other request, which the decoder then reads. Its
    /// answers must not close the connection.
    var front: (@Sendable (_ request: HTTP1FrontRequest, _ body: ByteBuffer) -> HTTP1Shortcut?)?
}

/// A request answered without the router (``HTTP1Responder/shortcut``): at once, after a
/// wait in a task of its own, or (an event stream) with a head now and a body that goes on.
enum HTTP1Shortcut: Sendable {
    /// An answer whose body is one buffer: its head gets `Content-Length` and `Date` when written.
    struct Answer: Sendable {
        var head: HTTPResponse
        var body: ByteBuffer
    }

    /// The answer, found on the event loop.
    case now(Answer)
    /// The answer needs a wait (an append that syncs): `answer` finds it in the request's task.
    case later(_ answer: @Sendable () async -> Answer)
    /// An answer whose head is known now and whose body goes on without end of known length
    /// (an event stream): the connection writes the head (with `Date`), then calls `start` on
    /// its event loop, at once and exactly once. `start` writes what it can
    /// (``HTTP1Answer/writeNow(_:)``) and must hand the answer on: detach it
    /// (``HTTP1Answer/detach()``) into something that resumes it later, or resume it now
    /// (``HTTP1Answer/resume(flushesEachWrite:_:)``); the answer ends only through a resume.
    case streaming(HTTPResponse, _ start: @Sendable (_ answer: HTTP1Answer) -> Void)
    /// The answer is found on the event loop, without a task, once the loop has read the rest
    /// of its pass (a produce appended with the others of the pass, ``ProduceGathering``): the
    /// connection calls `start` at once, on its loop, with the function that writes the answer;
    /// that function is called exactly once, on the loop.
    case gathered(_ start: @Sendable (_ answer: @escaping @Sendable (Answer) -> Void) -> Void)
}

extension HTTP1Responder {
    /// Answers with `responder`, in a context made from the connection's channel.
    init<Responder: HTTPResponder>(_ responder: Responder)
    where Responder.Context: RequestContext, Responder.Context.Source == ApplicationRequestContextSource {
        respond = { request, channel, logger in
            let context = Responder.Context(source: ApplicationRequestContextSource(channel: channel, logger: logger))
            do {
                return try await responder.respond(to: request, context: context)
            } catch {
                logger.debug("A request failed with an error no middleware answered", metadata: ["error": "\(error)"])
                return Response(status: .internalServerError)
            }
        }
    }
}

/// Serves the requests of one HTTP/1.1 connection from its pipeline (Docs/adr/0005-http1-connection.md).
///
/// Hummingbird serves a connection from a task that lives as long as the connection: it reads
/// request parts from an async sequence, calls the responder and writes the answer through an
/// async writer, then waits for the close. An idle event stream kept that task's frames (about
/// 10 KiB of the 27 KiB an idle stream cost, heap profile in ARCHITECTURE.md), and every small
/// request crossed the async sequence and the async writer. Here the connection is this
/// handler, driven by the event loop, and has no task of its own:
///
/// - Each request is answered in a task of its own, on the connection's event loop
///   (``EventLoopTaskExecutor``), that ends when its answer is written.
/// - A request whose head, body and end arrive in one read is answered with its body whole
///   (no async sequence); a longer body streams to the route through a bounded async sequence,
///   and the connection reads no more while the route does not take it.
/// - An answer is written from its task straight into the pipeline; a write waits only while
///   the connection's outbound buffer is over its high-water mark (the client reads nothing),
///   which is the back-pressure of a stream.
/// - Requests pipelined behind one being answered wait in a bounded queue, in order; past the
///   bound the connection reads no more until the queue drains. The connection keeps reading
///   otherwise, so that a stream's client that closes is seen at once.
///
/// Everything else is as Hummingbird does it, and stays in the handlers in front of this one:
/// NIO's HTTP/1.1 decoder and encoder, the ``ConnectionGuard`` (head size and time, idleness,
/// `Connection: close`, refusals), and the conversion to HTTP types (``HTTP1TypesCodec``).
/// All state is touched on the connection's event loop only.
final class HTTP1Connection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The most request parts queued behind the one being answered.
    static let maxQueuedParts = 64
    /// The most body bytes queued behind the request being answered.
    static let maxQueuedBodyBytes = 256 * 1024

    typealias BodySource = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDemand
    >.Source

    /// The request being answered.
    fileprivate final class Exchange {
        /// The route's body, while it streams; `nil` when the body came whole.
        var body: BodySource?
        /// Whether the request's end has been read.
        var requestEnded: Bool
        /// Whether its answer has been written whole: the rest of its body is read and dropped.
        var answered = false
        /// Whether its body's writing left the request's task, to be resumed by another
        /// (``HTTP1BodyWriter/detach()``): the request's task then does not end the answer.
        var detached = false

        init(body: BodySource?, requestEnded: Bool) {
            self.body = body
            self.requestEnded = requestEnded
        }
    }

    /// A request whose head has arrived in the current read, collected until its end or the
    /// read's end, whichever comes first.
    private struct Collecting {
        var head: HTTPRequest
        var body: ByteBuffer?

        mutating func append(_ buffer: ByteBuffer) {
            if body == nil {
                body = buffer
            } else {
                var buffer = buffer
                body!.writeBuffer(&buffer)
            }
        }
    }

    private let responder: HTTP1Responder
    private let logger: Logger
    private let executor: EventLoopTaskExecutor
    fileprivate private(set) var context: ChannelHandlerContext?

    private var collecting: Collecting?
    private var exchange: Exchange?
    /// Parts of requests behind the one being answered, in order. One slot at first: most
    /// connections never pipeline, and an idle stream keeps this.
    private var queued = CircularBuffer<HTTPRequestPart>(initialCapacity: 1)
    private var queuedBodyBytes = 0
    /// Whether the streaming body's reader asked for no more for now.
    private var bodyFull = false
    /// Whether a read was asked for and held back.
    private var readHeld = false
    /// Whether the client closed its side.
    private(set) fileprivate var inputClosed = false
    /// Whether requests are still served, and who closes the connection when not.
    private enum Closing {
        case no
        /// After an answer with `Connection: close`: the ``ConnectionGuard`` closes it.
        case byGuard
        /// After the answer being written (a graceful shutdown, a broken request).
        case afterAnswer
        /// Closed or closing.
        case now
    }

    private var closing = Closing.no
    /// Completed when the outbound buffer drains below its low-water mark, for the write waiting.
    private var writableWaiter: EventLoopPromise<Void>?

    /// An event stream started in front of the decoder (``HTTP1FrontLane``), being answered:
    /// its head was written there, and its body is framed here and written from the lane's
    /// place, below NIO's encoder, which never saw the head.
    private struct FrontStream {
        /// The lane's context: what is written from it reaches the socket's side.
        let context: ChannelHandlerContext
        /// Told once the stream's answer ended: whether requests held behind it may be served.
        let ended: (_ serveMore: Bool) -> Void
    }

    private var frontStream: FrontStream?

    init(responder: HTTP1Responder, eventLoop: any EventLoop, logger: Logger) {
        self.responder = responder
        self.logger = logger
        self.executor = EventLoopTaskExecutor(eventLoop)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        frontStream = nil  // it holds the lane, which holds this
    }

    /// Starts the answer to an event stream read in front of the decoder (``HTTP1FrontLane``),
    /// whose head the lane has written: the answer goes on here as a streaming shortcut's does
    /// (``HTTP1Shortcut/streaming(_:_:)``), its chunks framed here and written from `lane`
    /// (below NIO's encoder), and `ended` is told when it has ended, with whether requests held
    /// behind it may be served (not when the connection closes). On the event loop, with no
    /// request being answered or read.
    func answerInFront(writingFrom lane: ChannelHandlerContext, ended: @escaping (_ serveMore: Bool) -> Void) -> HTTP1Answer {
        precondition(exchange == nil && collecting == nil && queued.isEmpty, "a stream in front starts a connection's exchange")
        let exchange = Exchange(body: nil, requestEnded: true)
        self.exchange = exchange
        frontStream = FrontStream(context: lane, ended: ended)
        return HTTP1Answer(connection: NIOLoopBound(self, eventLoop: executor.eventLoop),
                           exchange: NIOLoopBound(exchange, eventLoop: executor.eventLoop), executor: executor, closes: false)
    }

    // MARK: Reading requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if let exchange, exchange.requestEnded || !queued.isEmpty {
            return enqueue(part)
        }
        receive(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // A head whose body goes on in later reads: the route gets it as a stream.
        startStreamingIfCollecting()
        context.fireChannelReadComplete()
    }

    /// One request part, for the request being read.
    private func receive(_ part: HTTPRequestPart) {
        switch part {
        case .head(let head):
            guard closing == .no else { return }
            collecting = Collecting(head: head)
        case .body(let buffer):
            if collecting != nil {
                collecting!.append(buffer)
            } else if let exchange, !exchange.answered, let body = exchange.body {
                if body.yield(buffer) == .stopProducing { bodyFull = true }
            }
        case .end:
            if let request = collecting {
                collecting = nil
                start(request.head, wholeBody: request.body ?? ByteBuffer())
            } else if let exchange {
                exchange.requestEnded = true
                exchange.body?.finish()
                exchange.body = nil
                bodyFull = false
                if exchange.answered { exchangeEnded() }
            }
        }
    }

    private func enqueue(_ part: HTTPRequestPart) {
        if case .body(let buffer) = part { queuedBodyBytes += buffer.readableBytes }
        queued.append(part)
    }

    private func startStreamingIfCollecting() {
        guard let request = collecting else { return }
        collecting = nil
        let demand = BodyDemand(connection: NIOLoopBound(self, eventLoop: executor.eventLoop))
        let stream = NIOThrowingAsyncSequenceProducer.makeSequence(
            elementType: ByteBuffer.self, failureType: (any Error).self,
            backPressureStrategy: NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(lowWatermark: 2, highWatermark: 8), finishOnDeinit: false, delegate: demand)
        if let body = request.body, stream.source.yield(body) == .stopProducing { bodyFull = true }
        start(request.head, body: RequestBody(asyncSequence: stream.sequence), source: stream.source)
    }

    /// Answers a request whose body came whole: by the responder's shortcut when it knows the
    /// request, else as any other.
    private func start(_ head: HTTPRequest, wholeBody body: ByteBuffer) {
        guard let shortcut = responder.shortcut?(head, body) else {
            return start(head, body: RequestBody(buffer: body), source: nil)
        }
        let exchange = Exchange(body: nil, requestEnded: true)
        self.exchange = exchange
        let closes = saysClose(head.headerFields)
        switch shortcut {
        case .now(let answer):
            write(answer, to: exchange, closes: closes)
        case .later(let answer):
            let connection = NIOLoopBound(self, eventLoop: executor.eventLoop)
            let answering = NIOLoopBound(exchange, eventLoop: executor.eventLoop)
            Task(executorPreference: executor) {
                let answer = await answer()
                connection.soonOnLoop { $0.write(answer, to: answering.value, closes: closes) }
            }
        case .gathered(let start):
            let connection = NIOLoopBound(self, eventLoop: executor.eventLoop)
            let answering = NIOLoopBound(exchange, eventLoop: executor.eventLoop)
            start { answer in connection.soonOnLoop { $0.write(answer, to: answering.value, closes: closes) } }
        case .streaming(let responseHead, let start):
            var head = responseHead
            head.headerFields[.date] = HTTPDate.now()
            let answer = HTTP1Answer(connection: NIOLoopBound(self, eventLoop: executor.eventLoop),
                                     exchange: NIOLoopBound(exchange, eventLoop: executor.eventLoop), executor: executor,
                                     closes: closes || saysClose(head.headerFields))
            // A connection that broke under the head fails the body's first write, which ends
            // the answer through its resume (`start` always runs: it may hold a stream's slot).
            _ = try? writePart(.head(head), flush: false)
            start(answer)
        }
    }

    /// Writes a shortcut's answer whole (head, body, end), then serves what comes next: once
    /// the connection is writable again when the answer took it over its high-water mark, so
    /// that a client that pipelines requests and reads no answers is not answered without bound.
    private func write(_ answer: HTTP1Shortcut.Answer, to exchange: Exchange, closes requestCloses: Bool) {
        var head = answer.head
        head.headerFields[.contentLength] = String(answer.body.readableBytes)
        head.headerFields[.date] = HTTPDate.now()
        let closes = requestCloses || saysClose(head.headerFields)
        let drained: EventLoopFuture<Void>?
        do {
            _ = try writePart(.head(head), flush: false)
            _ = try writePart(.body(answer.body), flush: false)
            drained = try writePart(.end(nil), flush: true)
        } catch {
            return answered(exchange, written: false, closes: closes)
        }
        guard let drained else { return answered(exchange, written: true, closes: closes) }
        let connection = NIOLoopBound(self, eventLoop: executor.eventLoop)
        let answering = NIOLoopBound(exchange, eventLoop: executor.eventLoop)
        drained.whenComplete { result in
            connection.value.answered(answering.value, written: (try? result.get()) != nil, closes: closes)
        }
    }

    /// Answers a request in a task of its own, on the connection's event loop.
    private func start(_ head: HTTPRequest, body: RequestBody, source: BodySource?) {
        guard let context else { return }
        let exchange = Exchange(body: source, requestEnded: source == nil)
        self.exchange = exchange
        let request = Request(head: head, body: body)
        let (responder, logger, channel) = (self.responder, self.logger, context.channel)
        let connection = NIOLoopBound(self, eventLoop: executor.eventLoop)
        let answering = NIOLoopBound(exchange, eventLoop: executor.eventLoop)
        let requestCloses = saysClose(head.headerFields)
        let executor = self.executor
        Task(executorPreference: executor) {
            let response = await responder.respond(request, channel, logger)
            let closes = requestCloses || saysClose(response.headers)
            let answer = HTTP1Answer(connection: connection, exchange: answering, executor: executor, closes: closes)
            let written = await answer.write(response)
            connection.soonOnLoop { $0.answered(answering.value, written: written, closes: closes, detaching: true) }
        }
    }

    /// The answer to `exchange` is written (or failed to be): serve what comes next. When
    /// `detaching` (the request's task ended) and the answer's body was detached, the task that
    /// resumes it says so instead.
    fileprivate func answered(_ exchange: Exchange, written: Bool, closes: Bool, detaching: Bool = false) {
        guard self.exchange === exchange, !exchange.answered, !(detaching && exchange.detached) else { return }
        guard written else {
            // The connection broke under the answer: nothing more can be said on it.
            closing = .now
            exchange.body?.finish(ChannelError.ioOnClosedChannel)
            context?.close(promise: nil)
            return
        }
        exchange.answered = true
        // The guard shuts the output after an answer with `Connection: close` (either side's),
        // drains what the client still sends, then closes: no request is served after it.
        if closes { closing = .byGuard }
        if exchange.requestEnded { return exchangeEnded() }
        // Answered before its body was read whole (a refusal): the rest is read and dropped.
        exchange.body?.finish()
        exchange.body = nil
        bodyFull = false
        resumeReading()
    }

    /// The request is answered and read to its end: the queued parts go on (for a stream
    /// started in front of the decoder, the lane's held requests).
    private func exchangeEnded() {
        exchange = nil
        let front = frontStream
        frontStream = nil
        defer { front?.ended(closing == .no && !inputClosed && context?.channel.isActive == true) }
        if closing != .no {
            queued.removeAll()
            queuedBodyBytes = 0
        }
        while exchange.map({ !$0.requestEnded }) ?? true, let part = queued.popFirst() {
            if case .body(let buffer) = part { queuedBodyBytes -= buffer.readableBytes }
            receive(part)
        }
        startStreamingIfCollecting()
        if exchange == nil, closing == .afterAnswer || (inputClosed && closing != .byGuard) {
            context?.close(promise: nil)
        }
        resumeReading()
    }

    // MARK: Read control

    func read(context: ChannelHandlerContext) {
        guard mayRead else {
            readHeld = true
            return
        }
        context.read()
    }

    private var mayRead: Bool {
        !bodyFull && queued.count < Self.maxQueuedParts && queuedBodyBytes < Self.maxQueuedBodyBytes
    }

    private func resumeReading() {
        guard readHeld, mayRead, let context else { return }
        readHeld = false
        context.read()
    }

    /// The streaming body's reader wants more.
    fileprivate func bodyWanted() {
        bodyFull = false
        resumeReading()
    }

    // MARK: Events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            if let exchange, !exchange.requestEnded {
                exchange.body?.finish(ChannelError.eof)
                exchange.body = nil
            }
            if exchange == nil, collecting == nil { context.close(promise: nil) }
            closeIfDetachedAnswerLostItsClient()
            return
        }
        if event is ChannelShouldQuiesceEvent {
            // Shutting down: the request being answered is the last (the guard closes an idle one).
            if closing == .no { closing = .afterAnswer }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Closes the connection when its answer is detached (an idle stream in the live fan-out,
    /// which has nothing to write until its next keepalive) and the client closed its side: an
    /// `EventSource` never half-closes, so the client is gone, and waiting for the keepalive's
    /// failed write would hold the stream, its slot and its connection for up to its interval.
    /// The close hands the stream back (``FanoutHub``'s `closeFuture` callback), ending its answer.
    fileprivate func closeIfDetachedAnswerLostItsClient() {
        guard inputClosed, exchange?.detached == true, let context else { return }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A body that failed (cut short, malformed, stalled): its route answers, then the
        // connection ends.
        if closing == .no { closing = .afterAnswer }
        if collecting != nil { startStreamingIfCollecting() }
        if let exchange, !exchange.requestEnded, let body = exchange.body {
            body.finish(error)
            exchange.body = nil
            exchange.requestEnded = true
            return
        }
        if exchange == nil { context.close(promise: nil) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let waiter = writableWaiter {
            writableWaiter = nil
            waiter.succeed()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let waiter = writableWaiter {
            writableWaiter = nil
            waiter.fail(ChannelError.ioOnClosedChannel)
        }
        if let exchange, let body = exchange.body {
            body.finish(ChannelError.eof)
            exchange.body = nil
        }
        queued.removeAll()
        context.fireChannelInactive()
    }

    // MARK: Writing answers

    /// Writes `part`; returns what to wait for before the next write: `nil` unless the
    /// connection's outbound buffer is now over its high-water mark.
    fileprivate func writePart(_ part: HTTPResponsePart, flush: Bool) throws -> EventLoopFuture<Void>? {
        guard let context, context.channel.isActive else { throw ChannelError.ioOnClosedChannel }
        if let frontStream {
            Self.writeFramed(part, from: frontStream.context)
            if flush { frontStream.context.flush() }
        } else {
            context.write(wrapOutboundOut(part), promise: nil)
            if flush { context.flush() }
        }
        if context.channel.isWritable { return nil }
        // Over the high-water mark: what is held back goes out before anything waits for it.
        if !flush { context.flush() }
        if context.channel.isWritable { return nil }
        let waiter = writableWaiter ?? context.eventLoop.makePromise()
        writableWaiter = waiter
        return waiter.futureResult
    }
}

extension HTTP1Connection {
    /// The largest body part framed as a chunk in one buffer (a copy); a larger one is written
    /// as its size line, itself and the line end, as NIO's encoder writes every chunk.
    static let maxCopiedChunkBytes = 4096

    /// Writes a part of a stream's body (or its end) from `context`, below NIO's encoder,
    /// framed as the encoder frames a chunked body (RFC 9112 §7.1): a chunk per non-empty
    /// part; the end as the last chunk, with trailers when there are.
    fileprivate static func writeFramed(_ part: HTTPResponsePart, from context: ChannelHandlerContext) {
        switch part {
        case .head:
            preconditionFailure("a stream started in front of the decoder has its head written by the lane")
        case .body(let body):
            let count = body.readableBytes
            guard count > 0 else { return }
            var size = context.channel.allocator.buffer(capacity: count <= maxCopiedChunkBytes ? count + 20 : 20)
            size.writeString(String(count, radix: 16))
            size.writeStaticString("\r\n")
            if count <= maxCopiedChunkBytes {
                size.writeImmutableBuffer(body)
                size.writeStaticString("\r\n")
                context.write(NIOAny(size), promise: nil)
            } else {
                context.write(NIOAny(size), promise: nil)
                context.write(NIOAny(body), promise: nil)
                context.write(NIOAny(ByteBuffer(staticString: "\r\n")), promise: nil)
            }
        case .end(let trailers):
            var last = context.channel.allocator.buffer(capacity: 5)
            last.writeStaticString("0\r\n")
            for field in trailers ?? [:] {
                last.writeString(field.name.rawName)
                last.writeStaticString(": ")
                last.writeString(field.value)
                last.writeStaticString("\r\n")
            }
            last.writeStaticString("\r\n")
            context.write(NIOAny(last), promise: nil)
        }
    }
}

@available(*, unavailable)
extension HTTP1Connection: Sendable {}

/// Tells an ``HTTP1Connection`` that its streaming body's reader wants more, or went away.
struct BodyDemand: NIOAsyncSequenceProducerDelegate {
    let connection: NIOLoopBound<HTTP1Connection>

    func produceMore() {
        let connection = self.connection
        connection.eventLoop.execute { connection.value.bodyWanted() }
    }

    func didTerminate() {
        // The reader is gone: what is left of the body is dropped as it arrives.
        produceMore()
    }
}

/// One answer on an ``HTTP1Connection``: what writes it, and resumes it when its body's writing
/// left its task.
struct HTTP1Answer: Sendable {
    let connection: NIOLoopBound<HTTP1Connection>
    fileprivate let exchange: NIOLoopBound<HTTP1Connection.Exchange>
    let executor: EventLoopTaskExecutor
    /// Whether the request or the answer said `Connection: close`.
    let closes: Bool

    /// Writes `response` whole: head, body, end; `false` when the connection broke first.
    func write(_ response: Response) async -> Bool {
        do {
            var head = response.head
            head.headerFields[.date] = HTTPDate.now()
            let finalHead = head
            _ = try await connection.onLoop { try $0.writePart(.head(finalHead), flush: false) }
            // A body of known length is written at once, flushed with its end; a stream's writes
            // are each flushed.
            let writer = HTTP1BodyWriter(answer: self, flushesEachWrite: response.body.contentLength == nil)
            try await response.body.write(writer)
            return true
        } catch {
            return false
        }
    }

    /// The connection's channel, while the connection is in its pipeline. On the event loop only.
    var channel: (any Channel)? { connection.value.context?.channel }

    /// Writes `buffer` into the connection now, flushed, from its event loop (a streaming
    /// shortcut's first bytes, ``HTTP1Shortcut/streaming(_:_:)``); `false` when the connection
    /// is closed. Over the high-water mark the bytes are queued all the same: whoever writes
    /// next waits (a live fan-out hands a member it cannot write to back).
    func writeNow(_ buffer: ByteBuffer) -> Bool {
        do {
            _ = try connection.value.writePart(.body(buffer), flush: true)
            return true
        } catch {
            return false
        }
    }

    /// Lets the answer go on outside any task: an idle event stream in the live fan-out
    /// (ADR 0005) keeps no task. On the connection's event loop only; the answer then ends only
    /// through ``resume(flushesEachWrite:_:)``.
    @discardableResult
    func detach() -> HTTP1Answer {
        exchange.value.detached = true
        // A client that left while the stream caught up: closed once the body has joined the
        // fan-out (the close hands it back), not in the middle of its joining.
        let connection = self.connection
        if connection.value.inputClosed {
            connection.eventLoop.execute { connection.value.closeIfDetachedAnswerLostItsClient() }
        }
        return self
    }

    /// Goes on writing a detached body (``HTTP1BodyWriter/detach()``) in a new task on the
    /// connection's event loop; the answer ends when `body` returns (or throws: the connection
    /// is then closed), unless `body` detached it again (a stream that caught up and joined the
    /// live fan-out anew), which its next resume then goes on with.
    func resume(flushesEachWrite: Bool, _ body: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) {
        let answer = self
        Task(executorPreference: executor) {
            // Being written again: not detached, until the body detaches it anew.
            answer.connection.soonOnLoop { _ in answer.exchange.value.detached = false }
            var writer: any ResponseBodyWriter = HTTP1BodyWriter(answer: answer, flushesEachWrite: flushesEachWrite)
            let written: Bool
            do {
                try await body(&writer)
                written = true
            } catch {
                written = false
            }
            answer.connection.soonOnLoop { connection in
                let exchange = answer.exchange.value
                // Detached anew: the answer goes on elsewhere (before, it was ended here while
                // its stream went on in the live fan-out).
                if written, exchange.detached { return }
                exchange.detached = false
                connection.answered(exchange, written: written, closes: answer.closes)
            }
        }
    }
}

/// Writes a response's body into an ``HTTP1Connection``, from the response's task (which runs
/// on the connection's event loop).
struct HTTP1BodyWriter: ResponseBodyWriter {
    let answer: HTTP1Answer
    /// Whether each write is flushed at once (a stream) or with the end (a body of known length).
    let flushesEachWrite: Bool

    mutating func write(_ buffer: ByteBuffer) async throws {
        // Over the high-water mark (the client reads nothing): wait until it drains.
        try await writeReturningWait(buffer)?.get()
    }

    /// Writes `buffer`; returns what to wait for before the next write: `nil` unless the
    /// connection's outbound buffer is over its high-water mark (``StreamWriteDeadline`` times
    /// only such a wait).
    func writeReturningWait(_ buffer: ByteBuffer) async throws -> EventLoopFuture<Void>? {
        let flush = flushesEachWrite
        return try await answer.connection.onLoop { try $0.writePart(.body(buffer), flush: flush) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        _ = try await answer.connection.onLoop { try $0.writePart(.end(trailingHeaders), flush: true) }
    }

    /// Lets the body's closure return without ending the answer, so that its task ends: an
    /// idle event stream in the live fan-out (ADR 0005) keeps no task. Must be called on the
    /// connection's event loop (from the body's task); the answer then ends only through
    /// ``HTTP1Answer/resume(flushesEachWrite:_:)``.
    func detach() -> HTTP1Answer {
        answer.detach()
    }
}

extension NIOLoopBound where Value == HTTP1Connection {
    /// Runs `body` with the connection on its event loop: at once when called there (a
    /// response's task runs there, ``EventLoopTaskExecutor``), else after a hop.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (HTTP1Connection) throws -> T) async throws -> T {
        if eventLoop.inEventLoop { return try body(value) }
        return try await eventLoop.submit { try body(self.value) }.get()
    }

    /// Runs `body` on the event loop, at once when called there.
    func soonOnLoop(_ body: @escaping @Sendable (HTTP1Connection) -> Void) {
        if eventLoop.inEventLoop { return body(value) }
        eventLoop.execute { body(self.value) }
    }
}

/// Whether a head's `Connection` header says `close`.
private func saysClose(_ fields: HTTPFields) -> Bool {
    fields[values: .connection].contains { $0.lowercased().contains("close") }
}
