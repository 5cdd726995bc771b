import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOTLS

/// One HTTP/2 connection's event streams, over the frames of `NIOHTTP2Handler` (no stream
/// channels: one handler sees every frame, and hands each stream's DATA to its parser).
///
/// Opens its streams when the connection is active (GET, `accept: text/event-stream`), raises
/// the connection's receive window to 1 GiB and gives the windows back as data is consumed, as
/// the Python client (`H2EventStreams`) does.
final class EventStreamsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    /// Each stream's initial receive window (advertised in SETTINGS).
    static let streamWindow = 1 << 20
    /// The connection's receive window, raised from 65,535 by a WINDOW_UPDATE.
    static let connectionWindow = 1 << 30

    private let run: SubscriberRun
    private let requestHeaders: HPACKHeaders
    /// The run's index of this connection's first stream; its streams are 1, 3, 5, ...
    private let firstStream: Int
    private let streamCount: Int
    /// Per stream: whether its response head came, and the bytes consumed since its last WINDOW_UPDATE.
    private var headSeen: [Bool]
    private var unacknowledged: [Int]
    private var streamEnded: [Bool]
    private var connectionUnacknowledged = 0
    private var mustFlush = false

    init(run: SubscriberRun, requestHeaders: HPACKHeaders, firstStream: Int, streamCount: Int) {
        self.run = run
        self.requestHeaders = requestHeaders
        self.firstStream = firstStream
        self.streamCount = streamCount
        self.headSeen = Array(repeating: false, count: streamCount)
        self.unacknowledged = Array(repeating: 0, count: streamCount)
        self.streamEnded = Array(repeating: false, count: streamCount)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(HTTP2Frame(
            streamID: .rootStream,
            payload: .windowUpdate(windowSizeIncrement: Self.connectionWindow - 65_535))), promise: nil)
        for i in 0..<streamCount {
            let headers = HTTP2Frame.FramePayload.Headers(headers: requestHeaders, endStream: true)
            context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID(i), payload: .headers(headers))), promise: nil)
        }
        context.flush()
        context.fireChannelActive()
    }

    private func streamID(_ index: Int) -> HTTP2StreamID {
        HTTP2StreamID(2 * index + 1)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let id = Int(Int32(frame.streamID))
        guard id % 2 == 1, (id - 1) / 2 < streamCount else { return }
        let index = (id - 1) / 2
        switch frame.payload {
        case .headers(let headers):
            if !headSeen[index] {
                headSeen[index] = true
                run.headReceived(status: Substring(headers.headers.first(name: ":status") ?? "none"))
            }
            if headers.endStream { streamEnded[index] = true }
        case .data(let payload):
            let flowControlled = payload.data.readableBytes + (payload.paddingBytes.map { $0 + 1 } ?? 0)
            if case .byteBuffer(let buffer) = payload.data {
                buffer.withUnsafeReadableBytes { run.feed($0, toStream: firstStream + index) }
            }
            if payload.endStream { streamEnded[index] = true }
            acknowledge(flowControlled, stream: index, context: context)
        case .rstStream(let code):
            streamEnded[index] = true
            if !headSeen[index] {
                run.connectionFailed("stream refused over HTTP/2: reset (\(code))")
            }
        default:
            break
        }
    }

    /// Gives back the window `bytes` used once half a window is consumed (as `h2` does).
    private func acknowledge(_ bytes: Int, stream index: Int, context: ChannelHandlerContext) {
        guard bytes > 0 else { return }
        connectionUnacknowledged += bytes
        if connectionUnacknowledged >= Self.connectionWindow / 2 {
            context.write(wrapOutboundOut(HTTP2Frame(
                streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: connectionUnacknowledged))), promise: nil)
            connectionUnacknowledged = 0
            mustFlush = true
        }
        unacknowledged[index] += bytes
        if unacknowledged[index] >= Self.streamWindow / 2 && !streamEnded[index] {
            context.write(wrapOutboundOut(HTTP2Frame(
                streamID: streamID(index), payload: .windowUpdate(windowSizeIncrement: unacknowledged[index]))), promise: nil)
            unacknowledged[index] = 0
            mustFlush = true
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if mustFlush {
            mustFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let negotiated)? = event as? TLSUserEvent, negotiated != "h2" {
            run.connectionFailed("the server did not negotiate HTTP/2 (ALPN \(negotiated ?? "none"))")
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        run.connectionFailed("connection failed: \(error)")
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        run.connectionFailed("the server closed a connection before every stream opened")
        context.fireChannelInactive()
    }
}
