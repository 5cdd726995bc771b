import HTTPTypes
import NIOCore

/// A plain HTTP/1.1 `POST` or `GET` parsed in front of NIO's decoder by ``HTTP1FrontLane``:
/// its method, its target as sent and the header fields a produce or an event stream depends on.
struct HTTP1FrontRequest: Sendable, Equatable {
    /// The two methods the lane reads.
    enum Method: Sendable, Equatable {
        /// With a body of `Content-Length` bytes (a produce).
        case post
        /// Without a body (an event stream).
        case get
    }

    var method = Method.post
    /// The request target, as sent (origin form: it starts with `/`).
    var target: String
    /// `Content-Type`, when sent.
    var contentType: String?
    /// `Authorization`, when sent.
    var authorization: String?
    /// `Accept-Encoding`, when sent.
    var acceptEncoding: String?
    /// Whether an `Origin` field was sent.
    var hasOrigin = false
    /// `Last-Event-ID`, when sent (an event stream's cursor).
    var lastEventID: String?
}

/// Parses the one kind of request ``HTTP1FrontLane`` answers, and declines every other.
enum HTTP1FrontParser {
    /// A request found whole at the start of the bytes.
    struct Parsed: Equatable {
        var request: HTTP1FrontRequest
        /// The head's length: request line, fields and the blank line.
        var headLength: Int
        /// The body's length (`Content-Length`); the body follows the head.
        var bodyLength: Int
    }

    /// The most header fields a request the lane answers may have.
    static let maxFields = 64

    /// The request at the start of `bytes`, when it is one the lane may answer: `POST` with an
    /// origin-form target over `HTTP/1.1`, a `Content-Length` of at most `maxBodyBytes`, head
    /// (within `maxHeadBytes`) and body both in `bytes`, or `GET` with no `Content-Length` (no
    /// body) and its head in `bytes`; and no field that changes how the request is read or
    /// answered (`Transfer-Encoding`, `Connection` other than `keep-alive`, `Upgrade`, `Expect`,
    /// `TE`, `Trailer`, `Content-Encoding`, `HTTP2-Settings`, `Idempotency-Key`, a second
    /// `Content-Length`, `Content-Type`, `Authorization`, `Origin`, `Accept-Encoding` or
    /// `Last-Event-ID`).
    ///
    /// `nil` for anything else, including a request not whole yet and any byte NIO's decoder
    /// might read otherwise than this parser: the lane then leaves the bytes to the decoder.
    /// Strict by design (field values of visible ASCII, spaces and tabs only): declining
    /// costs a request the lane's speed, never its answer.
    static func parse(_ bytes: UnsafeRawBufferPointer, maxHeadBytes: Int, maxBodyBytes: Int) -> Parsed? {
        let count = bytes.count
        let limit = min(count, maxHeadBytes)
        // Request line: `POST <target> HTTP/1.1\r\n` or `GET <target> HTTP/1.1\r\n`.
        let method: HTTP1FrontRequest.Method
        if count > 5, bytes[0] == 0x50, bytes[1] == 0x4F, bytes[2] == 0x53, bytes[3] == 0x54, bytes[4] == 0x20 {
            method = .post
        } else if count > 4, bytes[0] == 0x47, bytes[1] == 0x45, bytes[2] == 0x54, bytes[3] == 0x20 {
            method = .get
        } else {
            return nil
        }
        var i = method == .post ? 5 : 4
        let targetStart = i
        while i < limit, (0x21...0x7E).contains(bytes[i]) { i += 1 }
        let targetEnd = i
        guard targetEnd > targetStart, bytes[targetStart] == UInt8(ascii: "/"), matches(bytes, at: i, versionLine, limit: limit) else {
            return nil
        }
        i += versionLine.count
        var request = HTTP1FrontRequest(method: method, target: string(bytes, targetStart, targetEnd))
        var contentLength: Int?
        var fields = 0
        while true {
            guard i + 1 < limit else { return nil }
            if bytes[i] == 0x0D {
                guard bytes[i + 1] == 0x0A else { return nil }
                i += 2
                break
            }
            fields += 1
            guard fields <= maxFields else { return nil }
            // The name: token characters up to the colon.
            let nameStart = i
            while i < limit, isToken(bytes[i]) { i += 1 }
            guard i < limit, i > nameStart, bytes[i] == UInt8(ascii: ":") else { return nil }
            let nameEnd = i
            i += 1
            // The value: optional white space, visible ASCII, spaces and tabs, to the line end.
            while i < limit, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
            let valueStart = i
            while i < limit, bytes[i] == 0x20 || bytes[i] == 0x09 || (0x21...0x7E).contains(bytes[i]) { i += 1 }
            guard i + 1 < limit, bytes[i] == 0x0D, bytes[i + 1] == 0x0A else { return nil }
            var valueEnd = i
            while valueEnd > valueStart, bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            i += 2
            switch field(bytes, nameStart, nameEnd) {
            case .contentLength:
                guard contentLength == nil, valueEnd > valueStart, valueEnd - valueStart <= 9 else { return nil }
                var length = 0
                for j in valueStart..<valueEnd {
                    guard (0x30...0x39).contains(bytes[j]) else { return nil }
                    length = length * 10 + Int(bytes[j] - 0x30)
                }
                contentLength = length
            case .contentType:
                guard request.contentType == nil else { return nil }
                request.contentType = string(bytes, valueStart, valueEnd)
            case .authorization:
                guard request.authorization == nil else { return nil }
                request.authorization = string(bytes, valueStart, valueEnd)
            case .acceptEncoding:
                guard request.acceptEncoding == nil else { return nil }
                request.acceptEncoding = string(bytes, valueStart, valueEnd)
            case .origin:
                guard !request.hasOrigin else { return nil }
                request.hasOrigin = true
            case .lastEventID:
                guard request.lastEventID == nil else { return nil }
                request.lastEventID = string(bytes, valueStart, valueEnd)
            case .connection:
                guard equalsLowercased(bytes, valueStart, valueEnd, keepAlive) else { return nil }
            case .declined:
                return nil
            case .other:
                break
            }
        }
        if method == .get {
            // A `GET` with a body is the decoder's.
            return contentLength == nil ? Parsed(request: request, headLength: i, bodyLength: 0) : nil
        }
        guard let contentLength, contentLength <= maxBodyBytes, contentLength <= count - i else { return nil }
        return Parsed(request: request, headLength: i, bodyLength: contentLength)
    }

    private enum Field {
        case contentLength, contentType, authorization, acceptEncoding, origin, lastEventID, connection, declined, other
    }

    private static let versionLine = Array(" HTTP/1.1\r\n".utf8)
    private static let keepAlive = Array("keep-alive".utf8)
    private static let known: [(name: [UInt8], field: Field)] = ([
        ("content-length", .contentLength), ("content-type", .contentType), ("authorization", .authorization),
        ("accept-encoding", .acceptEncoding), ("origin", .origin), ("last-event-id", .lastEventID), ("connection", .connection),
        ("transfer-encoding", .declined), ("upgrade", .declined), ("expect", .declined), ("te", .declined),
        ("trailer", .declined), ("content-encoding", .declined), ("http2-settings", .declined),
        ("idempotency-key", .declined),
    ] as [(String, Field)]).map { (Array($0.0.utf8), $0.1) }

    private static func field(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Field {
        for entry in known where entry.name.count == end - start && equalsLowercased(bytes, start, end, entry.name) {
            return entry.field
        }
        return .other
    }

    /// Whether `bytes[start..<end]`, with ASCII letters lowercased, is `lowercase`.
    private static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ lowercase: [UInt8]) -> Bool {
        guard end - start == lowercase.count else { return false }
        for (offset, expected) in lowercase.enumerated() {
            let byte = bytes[start + offset]
            guard ((0x41...0x5A).contains(byte) ? byte | 0x20 : byte) == expected else { return false }
        }
        return true
    }

    private static func matches(_ bytes: UnsafeRawBufferPointer, at start: Int, _ expected: [UInt8], limit: Int) -> Bool {
        guard start + expected.count <= limit else { return false }
        for (offset, byte) in expected.enumerated() where bytes[start + offset] != byte { return false }
        return true
    }

    /// RFC 9110's `tchar`.
    private static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func string(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}

/// Answers plain produce requests, and starts plain event streams, in front of NIO's HTTP/1.1
/// decoder, from the bytes of the read that brought them (Docs/adr/0008-produce-front-lane.md,
/// Docs/adr/0011-event-streams-in-front-of-the-decoder.md).
///
/// It sits between the ``ConnectionGuard``'s raw-bytes handler and NIO's codec. While every
/// request on its connection is one the lane parses (``HTTP1FrontParser``) and its responder
/// answers, each is answered with one buffer written here (head and body), flushed once per
/// read, and the guard is told. An answer that must wait (``HTTP1Shortcut/later(_:)``: an
/// append that syncs) is found in a task on the connection's event loop; meanwhile the bytes
/// that follow are held (reading stops past ``maxHeldBytes``), and so are the client's
/// half-close and a graceful shutdown's notice, which go on once the answer is written.
///
/// An event stream (``HTTP1Shortcut/streaming(_:_:)``, a `GET` that is the last request of its
/// read) gets its head written here, and its body goes on through the connection's
/// ``HTTP1Connection`` (``HTTP1Connection/answerInFront(writingFrom:ended:)``), which frames
/// its chunks itself and writes them from this handler's place, as the live fan-out writes
/// its steps: the decoder, the encoder and the HTTP types never see the stream. What arrives
/// behind a stream is held until it ends (a client that closes its side is told on at once
/// when nothing is held, so that an idle stream whose client left is closed).
///
/// NIO's codec and what follows it (``ConnectionGuard/RequestParts``, ``HTTP1TypesCodec``) are
/// added behind the lane only when it first hands something on (`addDecoder`): a connection
/// whose requests the lane answers never has them.
///
/// At the first request it cannot answer (another route, a request split across reads, a
/// connection over its high-water mark) the lane passes that request's bytes and everything
/// after them to the decoder and leaves the pipeline: the connection goes on as any other,
/// and answers keep their order because every answer of the lane was written before the
/// decoder saw a byte.
final class HTTP1FrontLane: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The largest body the lane takes; larger ones are the decoder's.
    static let maxBodyBytes = 64 * 1024
    /// The most bytes held behind a request whose answer is awaited before reading stops.
    static let maxHeldBytes = 64 * 1024

    private let respond: @Sendable (_ request: HTTP1FrontRequest, _ body: ByteBuffer) -> HTTP1Shortcut?
    private let connection: ConnectionGuard
    /// What answers the requests the lane does not, and goes on with the streams it starts;
    /// `nil`: the lane starts no stream.
    private let http1: HTTP1Connection?
    /// Adds NIO's codec and what follows it behind the lane, once, before it first hands
    /// anything on; `nil` when they are there.
    private var addDecoder: ((_ lane: HTTP1FrontLane) throws -> Void)?
    private let maxHeadBytes: Int
    private var context: ChannelHandlerContext?
    /// Answers written since the last flush.
    private var unflushed = false
    /// Whether the lane has handed the connection to the decoder.
    private var left = false
    /// Whether an answer is awaited (a task finds it).
    private var waiting = false
    /// Whether an event stream the lane started is being answered (through `http1`).
    private var streaming = false
    /// What arrived while an answer is awaited or a stream answered.
    private var held: ByteBuffer?
    /// Whether a read was asked for and held back while an answer is awaited.
    private var readHeld = false
    /// Events held while an answer is awaited: the client's half-close, a graceful shutdown.
    private var heldEvents: [Any] = []

    /// - Parameters:
    ///   - http1: the connection's layer, behind the lane, that goes on with the streams the
    ///     lane starts; `nil`: the lane declines event streams.
    ///   - addDecoder: adds NIO's codec and what follows it behind the lane (called once, on
    ///     the event loop, before the lane first hands bytes or an event on); `nil` when they
    ///     are in the pipeline already.
    init(connection: ConnectionGuard, http1: HTTP1Connection? = nil, maxHeadBytes: Int,
         addDecoder: ((_ lane: HTTP1FrontLane) throws -> Void)? = nil,
         respond: @escaping @Sendable (_ request: HTTP1FrontRequest, _ body: ByteBuffer) -> HTTP1Shortcut?) {
        self.connection = connection
        self.http1 = http1
        self.maxHeadBytes = maxHeadBytes
        self.addDecoder = addDecoder
        self.respond = respond
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !left else { return context.fireChannelRead(data) }
        var buffer = unwrapInboundIn(data)
        guard !waiting, !streaming else {
            if held == nil { held = buffer } else { held!.writeBuffer(&buffer) }
            return
        }
        serve(buffer, context: context)
        leaveIfDone(context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if waiting || streaming, (held?.readableBytes ?? 0) >= Self.maxHeldBytes {
            readHeld = true
            return
        }
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !left {
            let inputClosed = (event as? ChannelEvent) == .inputClosed
            // Behind an awaited answer, or behind a stream with requests held after it, these
            // wait for their turn.
            if waiting, event is ChannelShouldQuiesceEvent || inputClosed {
                heldEvents.append(event)
                return
            }
            if streaming, inputClosed, held != nil || !heldEvents.isEmpty {
                heldEvents.append(event)
                return
            }
        }
        // The connection's layer may close at once on these: what was answered goes out first.
        flushIfNeeded(context)
        fire(event, context: context)
    }

    /// Hands `event` on: to the connection's layer itself behind a stream the lane started,
    /// else through the decoder (added first when it is not there yet, so that the guard's
    /// view of requests sees it).
    private func fire(_ event: Any, context: ChannelHandlerContext) {
        if !streaming, !decoderAdded() { return }
        context.fireUserInboundEventTriggered(event)
    }

    /// Adds the decoder and what follows when they are not there; `false` (and the connection
    /// is closed) when that failed.
    private func decoderAdded() -> Bool {
        guard let addDecoder else { return true }
        self.addDecoder = nil
        do {
            try addDecoder(self)
            return true
        } catch {
            context?.close(promise: nil)
            return false
        }
    }

    /// Answers the requests at the front of `input` while the lane can; hands the rest to the
    /// decoder (the caller then leaves the pipeline, ``leaveIfDone(_:)``, once it has used
    /// `context` for the last time: a removed handler's context reaches no other handler).
    private func serve(_ input: ByteBuffer, context: ChannelHandlerContext) {
        var buffer = input
        reading: while buffer.readableBytes > 0, context.channel.isWritable {
            let parsed = buffer.withUnsafeReadableBytes {
                HTTP1FrontParser.parse($0, maxHeadBytes: maxHeadBytes, maxBodyBytes: Self.maxBodyBytes)
            }
            // A stream is started only as the last request of its read, and when there is a
            // layer to go on with it: what follows it would wait for its end.
            guard let parsed,
                  parsed.request.method == .post || (http1 != nil && parsed.headLength == buffer.readableBytes),
                  let body = buffer.getSlice(at: buffer.readerIndex + parsed.headLength, length: parsed.bodyLength),
                  let shortcut = respond(parsed.request, body)
            else { break }
            switch shortcut {
            case .now(let answer):
                buffer.moveReaderIndex(forwardBy: parsed.headLength + parsed.bodyLength)
                write(answer, context: context)
                connection.answeredInFront()
            case .later(let answer):
                let lane = awaitAnswer(to: parsed, in: &buffer, context: context)
                let eventLoop = context.eventLoop
                Task(executorPreference: EventLoopTaskExecutor(eventLoop)) {
                    let answer = await answer()
                    if eventLoop.inEventLoop {
                        lane.value.answered(answer)
                    } else {
                        eventLoop.execute { lane.value.answered(answer) }
                    }
                }
                return
            case .gathered(let start):
                let lane = awaitAnswer(to: parsed, in: &buffer, context: context)
                start { answer in lane.value.answered(answer) }
                return
            case .streaming(let head, let start):
                guard let http1 else { preconditionFailure("the lane asks for streams only with a layer to go on") }
                buffer.moveReaderIndex(forwardBy: parsed.headLength)
                streaming = true
                connection.frontRequestStarted()
                context.write(wrapOutboundOut(Self.encodeStreamHead(head, allocator: context.channel.allocator)), promise: nil)
                unflushed = true
                // The connection's layer holds the lane until the stream ends (or the pipeline goes).
                start(http1.answerInFront(writingFrom: context) { [self] serveMore in streamAnswered(serveMore: serveMore) })
                return
            }
        }
        guard buffer.readableBytes > 0 else { return }
        // From now on the decoder reads every byte; what was answered here goes out first.
        left = true
        flushIfNeeded(context)
        guard decoderAdded() else { return }
        context.fireChannelRead(wrapInboundOut(buffer))
    }

    /// Waits for the answer to the request `parsed` at the front of `buffer` (``answered(_:)``
    /// writes it), holding what follows it; returns the lane for the answer's callback.
    private func awaitAnswer(to parsed: HTTP1FrontParser.Parsed, in buffer: inout ByteBuffer,
                             context: ChannelHandlerContext) -> NIOLoopBound<HTTP1FrontLane> {
        buffer.moveReaderIndex(forwardBy: parsed.headLength + parsed.bodyLength)
        waiting = true
        connection.frontRequestStarted()
        held = buffer.readableBytes > 0 ? buffer : nil
        return NIOLoopBound(self, eventLoop: context.eventLoop)
    }

    /// Leaves the pipeline once the decoder has been handed the connection.
    private func leaveIfDone(_ context: ChannelHandlerContext) {
        guard left else { return }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The awaited answer: written, then what was held goes on.
    private func answered(_ answer: HTTP1Shortcut.Answer) {
        waiting = false
        guard let context else { return }  // closed meanwhile
        write(answer, context: context)
        flushIfNeeded(context)
        connection.frontRequestAnswered()
        if heldEvents.contains(where: { $0 is ChannelShouldQuiesceEvent }) {
            // Shutting down: the request answered was the connection's last.
            held = nil
        }
        goOn(context)
    }

    /// The stream the lane started has ended (its last chunk written, or its connection
    /// broken): what was held behind it goes on, unless the connection's layer serves no more
    /// (it closes the connection: a graceful shutdown, the client's half-close).
    private func streamAnswered(serveMore: Bool) {
        streaming = false
        connection.frontRequestAnswered()
        guard let context else { return }  // closed meanwhile
        guard serveMore else {
            held = nil
            heldEvents = []
            return
        }
        goOn(context)
    }

    /// Serves what was held behind an answer, then hands on the events held with it.
    private func goOn(_ context: ChannelHandlerContext) {
        if let held = self.held {
            self.held = nil
            serve(held, context: context)
            flushIfNeeded(context)
        }
        if !waiting, !(streaming && held != nil), !heldEvents.isEmpty {
            let events = heldEvents
            heldEvents = []
            for event in events { fire(event, context: context) }
        }
        if readHeld, !(waiting || streaming) || (held?.readableBytes ?? 0) < Self.maxHeldBytes {
            readHeld = false
            context.read()
        }
        leaveIfDone(context)
    }

    private func write(_ answer: HTTP1Shortcut.Answer, context: ChannelHandlerContext) {
        assert(!answer.head.headerFields.contains { $0.name == .connection }, "a front-lane answer keeps the connection")
        context.write(wrapOutboundOut(Self.encode(answer, allocator: context.channel.allocator)), promise: nil)
        unflushed = true
    }

    private func flushIfNeeded(_ context: ChannelHandlerContext) {
        guard unflushed else { return }
        unflushed = false
        context.flush()
    }

    /// The answer as NIO's encoder writes a shortcut's answer (``HTTP1Connection``): status
    /// line, its fields, `Content-Length`, `Date`, the blank line and the body, in one buffer.
    static func encode(_ answer: HTTP1Shortcut.Answer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: 160 + answer.body.readableBytes)
        writeStatusLineAndFields(answer.head, into: &out)
        out.writeStaticString("Content-Length: ")
        out.writeDecimal(Int64(answer.body.readableBytes))
        out.writeStaticString("\r\nDate: ")
        out.writeString(HTTPDate.now())
        out.writeStaticString("\r\n\r\n")
        out.writeImmutableBuffer(answer.body)
        return out
    }

    /// A stream's head as NIO's encoder writes the head of a streaming shortcut's answer
    /// (``HTTP1Connection``): status line, its fields, `Date`, then `transfer-encoding: chunked`
    /// (the encoder's, for a body of unknown length) and the blank line.
    static func encodeStreamHead(_ head: HTTPResponse, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: 256)
        writeStatusLineAndFields(head, into: &out)
        out.writeStaticString("Date: ")
        out.writeString(HTTPDate.now())
        out.writeStaticString("\r\ntransfer-encoding: chunked\r\n\r\n")
        return out
    }

    private static func writeStatusLineAndFields(_ head: HTTPResponse, into out: inout ByteBuffer) {
        let status = head.status
        out.writeStaticString("HTTP/1.1 ")
        out.writeDecimal(Int64(status.code))
        out.writeStaticString(" ")
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\n")
        for field in head.headerFields {
            out.writeString(field.name.rawName)
            out.writeStaticString(": ")
            out.writeString(field.value)
            out.writeStaticString("\r\n")
        }
    }
}

@available(*, unavailable)
extension HTTP1FrontLane: Sendable {}
