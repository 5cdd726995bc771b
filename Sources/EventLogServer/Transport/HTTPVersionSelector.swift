import NIOCore
import NIOTLS

/// The HTTP version a connection speaks, and what its pipeline was set up to return.
enum NegotiatedHTTPVersion<HTTP1: Sendable, HTTP2: Sendable>: Sendable {
    case http1(HTTP1)
    case http2(HTTP2)
}

/// Chooses HTTP/1.1 or HTTP/2 for a new connection, sets the pipeline up for it, then steps
/// out of the way.
///
/// - Over TLS, ALPN decides (`h2` or `http/1.1`, as the client's TLS handshake chose).
/// - Without TLS, or when the client offered no ALPN protocol, the first bytes decide: HTTP/2's
///   24-byte connection preface (`PRI * HTTP/2.0…`, RFC 9113 §3.4, "prior knowledge") selects
///   HTTP/2 (h2c), anything else HTTP/1.1 — known at the first byte that differs, so an
///   HTTP/1.1 request waits for nothing.
///
/// Bytes that arrive before the choice is made are held and passed on, in order, once the
/// pipeline for the chosen version is in place. A connection that sends nothing is closed by
/// the ``ConnectionGuard`` behind this handler after the idle timeout.
final class HTTPVersionSelector<HTTP1: Sendable, HTTP2: Sendable>: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias Negotiated = NegotiatedHTTPVersion<HTTP1, HTTP2>

    /// HTTP/2's client connection preface.
    static var preface: [UInt8] { Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) }

    private enum State {
        /// Waiting for the TLS handshake's ALPN result.
        case handshaking
        /// Reading the first bytes.
        case sniffing(matched: Int)
        /// The pipeline for the chosen version is being set up (or was): see `handOff`.
        case configuring
    }

    private var state: State
    private let handOff: PipelineHandOff<Negotiated>
    private let configureHTTP1: (any Channel) -> EventLoopFuture<HTTP1>
    private let configureHTTP2: (any Channel) -> EventLoopFuture<HTTP2>

    /// - Parameters:
    ///   - tls: whether a TLS handler is in front of this one (ALPN decides first).
    ///   - promise: completed with the set-up pipeline's value, or failed when the connection
    ///     closes first.
    ///   - configureHTTP1: adds the HTTP/1.1 handlers behind this one.
    ///   - configureHTTP2: adds the HTTP/2 handlers behind this one.
    init(tls: Bool, promise: EventLoopPromise<Negotiated>,
         configureHTTP1: @escaping (any Channel) -> EventLoopFuture<HTTP1>,
         configureHTTP2: @escaping (any Channel) -> EventLoopFuture<HTTP2>) {
        self.state = tls ? .handshaking : .sniffing(matched: 0)
        self.handOff = PipelineHandOff(promise: promise)
        self.configureHTTP1 = configureHTTP1
        self.configureHTTP2 = configureHTTP2
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        handOff.fail(ChannelError.inappropriateOperationForState)  // ignored once succeeded
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshaking = state, let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            context.fireUserInboundEventTriggered(event)
            switch negotiated {
            case "h2": choose(http2: true, context: context)
            case "http/1.1": choose(http2: false, context: context)
            default:
                state = .sniffing(matched: 0)
                sniff(context: context)
            }
            return
        }
        if event is ChannelShouldQuiesceEvent {
            switch state {
            case .handshaking, .sniffing:
                // Shutting down before a request could begin: nothing to finish.
                return context.close(promise: nil)
            case .configuring:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if handOff.isDone { return context.fireChannelRead(data) }
        handOff.hold(data)
        if case .sniffing = state { sniff(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handOff.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    /// Compares the bytes held so far with the preface, and chooses when they tell.
    private func sniff(context: ChannelHandlerContext) {
        guard case .sniffing(var matched) = state else { return }
        let preface = Self.preface
        var seen = 0
        for data in handOff.held {
            let buffer = unwrapInboundIn(data)
            for byte in buffer.readableBytesView {
                if seen >= matched {
                    if byte != preface[matched] { return choose(http2: false, context: context) }
                    matched += 1
                    if matched == preface.count { return choose(http2: true, context: context) }
                }
                seen += 1
            }
        }
        state = .sniffing(matched: matched)
    }

    private func choose(http2: Bool, context: ChannelHandlerContext) {
        state = .configuring
        let configured: EventLoopFuture<Negotiated> = http2
            ? configureHTTP2(context.channel).map { .http2($0) }
            : configureHTTP1(context.channel).map { .http1($0) }
        handOff.handOff(when: configured, removing: self, context: context)
    }
}

@available(*, unavailable)
extension HTTPVersionSelector: Sendable {}
