import NIOCore
import NIOTLS

/// The HTTP version a connection speaks, and what its pipeline was set up to return.
enum NegotiatedHTTPVersion<HTTP1: Sendable, HTTP2: Sendable>: Sendable {
    case http1(HTTP1)
    case http2(HTTP2)
}

/// Chooses a new connection's pipeline once, sets it up, then steps out of the way: HTTP/2,
/// or HTTP/1.1 with or without the WebSocket upgrade machinery.
///
/// - Over TLS, ALPN decides the version (`h2` or `http/1.1`, as the client's TLS handshake
///   chose).
/// - Without TLS, or when the client offered no ALPN protocol, the first bytes decide: HTTP/2's
///   24-byte connection preface (`PRI * HTTP/2.0…`, RFC 9113 §3.4, "prior knowledge") selects
///   HTTP/2 (h2c), anything else HTTP/1.1 — known at the first byte that differs.
/// - For HTTP/1.1, the first request head decides the pipeline. Only a connection's first
///   request may upgrade to a WebSocket, and the machinery for it (SwiftNIO's typed upgrade
///   handler, Hummingbird's upgrade channel, whose async frames stay in the connection's task
///   for its life) costs every connection that has it: 30 KiB of resident memory per idle
///   event stream with it, 27 KiB without (2,000 streams, release builds, measured twice
///   each). So a connection whose first head has an `Upgrade` header gets the
///   WebSocket-capable pipeline (which also declines other upgrades), and every other
///   connection the plain HTTP/1.1 one. A head read in several pieces is looked at whole.
///
/// One handler decides all of it, and the pipeline is built once (a storm of new event
/// streams spent a handler's add and removal and a promise's hops per connection on a second
/// stage, Docs/adr/0007-one-pipeline-choice.md).
///
/// The ``ConnectionGuard``'s front handler is in front of this one: it times the head and
/// refuses one over the size limit, so what is held here is bounded by that limit; it closes a
/// connection that sends nothing after the idle timeout. Bytes that arrive before the choice is
/// made are held and passed on, in order, once the chosen pipeline is in place.
final class HTTPVersionSelector<HTTP1: Sendable, HTTP2: Sendable>: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias Negotiated = NegotiatedHTTPVersion<HTTP1, HTTP2>

    /// HTTP/2's client connection preface.
    static var preface: StaticString { "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" }

    private enum State {
        /// Waiting for the TLS handshake's ALPN result.
        case handshaking
        /// Reading the first bytes: the first `matched` are the preface's.
        case sniffingPreface(matched: Int)
        /// HTTP/1.1: reading the first head. `scanned` bytes held have no blank line, and the
        /// last `endMatched` of them are the start of one.
        case sniffingHead(scanned: Int, endMatched: Int)
        /// The pipeline for the chosen version is being set up (or was): see `handOff`.
        case configuring
    }

    private var state: State
    private let maxHeadBytes: Int
    private let handOff: PipelineHandOff<Negotiated>
    private let configureHTTP1: (_ upgrade: Bool, _ channel: any Channel) -> PipelineSetUp<HTTP1>
    private let configureHTTP2: (any Channel) -> EventLoopFuture<HTTP2>

    /// - Parameters:
    ///   - tls: whether a TLS handler is in front of this one (ALPN decides first).
    ///   - maxHeadBytes: past this many bytes without a blank line the first head is too large
    ///     anyway (the guard refuses it): the plain HTTP/1.1 pipeline is chosen.
    ///   - chosen: told, once, the set-up pipeline's value, or the error when the connection
    ///     closes first (a callback, not a promise: the listener needs no future per
    ///     connection).
    ///   - configureHTTP1: adds the HTTP/1.1 handlers behind this one; `upgrade` says whether
    ///     the first head has an `Upgrade` header.
    ///   - configureHTTP2: adds the HTTP/2 handlers behind this one.
    init(tls: Bool, maxHeadBytes: Int, chosen: @escaping (Result<Negotiated, any Error>) -> Void,
         configureHTTP1: @escaping (_ upgrade: Bool, _ channel: any Channel) -> PipelineSetUp<HTTP1>,
         configureHTTP2: @escaping (any Channel) -> EventLoopFuture<HTTP2>) {
        self.state = tls ? .handshaking : .sniffingPreface(matched: 0)
        self.maxHeadBytes = maxHeadBytes
        self.handOff = PipelineHandOff(chosen: chosen)
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
            case "h2": chooseHTTP2(context: context)
            case "http/1.1":
                state = .sniffingHead(scanned: 0, endMatched: 0)
                sniffHead(context: context)
            default:
                state = .sniffingPreface(matched: 0)
                sniffPreface(context: context)
            }
            return
        }
        switch state {
        case .handshaking, .sniffingPreface, .sniffingHead:
            // Shutting down, or the client closed its side, before a request could begin:
            // nothing to answer.
            if event is ChannelShouldQuiesceEvent { return context.close(promise: nil) }
            if let event = event as? ChannelEvent, event == .inputClosed { return context.close(promise: nil) }
        case .configuring:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if handOff.isDone { return context.fireChannelRead(data) }
        handOff.hold(data)
        switch state {
        case .sniffingPreface: sniffPreface(context: context)
        case .sniffingHead: sniffHead(context: context)
        case .handshaking, .configuring: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handOff.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    /// Compares the bytes held so far with the preface, and chooses when they tell.
    private func sniffPreface(context: ChannelHandlerContext) {
        guard case .sniffingPreface(var matched) = state else { return }
        // `true`: HTTP/2; `false`: HTTP/1.1; `nil`: not known yet.
        let http2 = Self.preface.withUTF8Buffer { preface -> Bool? in
            var seen = 0
            for data in handOff.held {
                for byte in unwrapInboundIn(data).readableBytesView {
                    if seen >= matched {
                        if byte != preface[matched] { return false }
                        matched += 1
                        if matched == preface.count { return true }
                    }
                    seen += 1
                }
            }
            return nil
        }
        switch http2 {
        case false?:
            // The same bytes begin the first HTTP/1.1 head.
            state = .sniffingHead(scanned: 0, endMatched: 0)
            sniffHead(context: context)
        case true?:
            chooseHTTP2(context: context)
        case nil:
            state = .sniffingPreface(matched: matched)
        }
    }

    /// Looks for the blank line that ends the first head in the bytes held and not yet
    /// scanned, and chooses the HTTP/1.1 pipeline once it is there.
    private func sniffHead(context: ChannelHandlerContext) {
        guard case .sniffingHead(var scanned, var endMatched) = state else { return }
        var start = 0  // of the held read being scanned, among all the bytes held
        for data in handOff.held {
            let buffer = unwrapInboundIn(data)
            let count = buffer.readableBytes
            defer { start += count }
            guard start + count > scanned else { continue }
            let found = buffer.withUnsafeReadableBytes { bytes -> Int? in
                for i in (scanned - start)..<count {
                    endMatched = Self.blankLineMatched(after: endMatched, bytes[i])
                    if endMatched == 4 { return start + i + 1 }
                }
                return nil
            }
            if let end = found { return chooseHTTP1(upgrade: hasUpgradeHeader(headBytes: end), context: context) }
            scanned = start + count
        }
        if scanned > maxHeadBytes { return chooseHTTP1(upgrade: false, context: context) }
        state = .sniffingHead(scanned: scanned, endMatched: endMatched)
    }

    /// Whether the first `count` bytes held, a whole head, have an `Upgrade` header.
    private func hasUpgradeHeader(headBytes count: Int) -> Bool {
        if handOff.held.count == 1 {
            // Most heads come in one read: looked at where they are.
            return unwrapInboundIn(handOff.held[handOff.held.startIndex])
                .withUnsafeReadableBytes { Self.hasUpgradeHeader($0[..<count]) }
        }
        var head: [UInt8] = []
        head.reserveCapacity(count)
        for data in handOff.held where head.count < count {
            let view = unwrapInboundIn(data).readableBytesView
            head += view.prefix(count - head.count)
        }
        return head.withUnsafeBytes { Self.hasUpgradeHeader($0[...]) }
    }

    private func chooseHTTP1(upgrade: Bool, context: ChannelHandlerContext) {
        state = .configuring
        let setUp: PipelineSetUp<Negotiated> = switch configureHTTP1(upgrade, context.channel) {
        case .done(let value): .done(.http1(value))
        case .failed(let error): .failed(error)
        case .pending(let configured): .pending(configured.map { .http1($0) })
        }
        handOff.handOff(setUp, removing: self, context: context)
    }

    private func chooseHTTP2(context: ChannelHandlerContext) {
        state = .configuring
        handOff.handOff(.pending(configureHTTP2(context.channel).map { .http2($0) }), removing: self, context: context)
    }

    /// How many bytes of a blank line (`\r\n\r\n`) end at `byte`, when `matched` ended just
    /// before it.
    static func blankLineMatched(after matched: Int, _ byte: UInt8) -> Int {
        switch (matched, byte) {
        case (0, 0x0D), (2, 0x0D), (1, 0x0A), (3, 0x0A): matched + 1
        case (_, 0x0D): 1
        default: 0
        }
    }

    /// Whether a head (request line and header lines) has a header line named `Upgrade`, in
    /// any case.
    static func hasUpgradeHeader(_ head: Slice<UnsafeRawBufferPointer>) -> Bool {
        let name: StaticString = "\r\nupgrade:"
        let count = name.utf8CodeUnitCount
        guard head.count >= count else { return false }
        return name.withUTF8Buffer { name in
            var i = head.startIndex
            while i <= head.endIndex - count {
                var j = 0
                // ASCII letters compare lowercased; `\r`, `\n` and `:` are unchanged by `| 0x20`.
                while j < count, head[i + j] | (name[j] >= 0x61 ? 0x20 : 0) == name[j] { j += 1 }
                if j == count { return true }
                i += 1
            }
            return false
        }
    }
}

@available(*, unavailable)
extension HTTPVersionSelector: Sendable {}
