import NIOCore

/// Holds an HTTP/1.1 connection's first bytes until its first request head has arrived, then
/// has the pipeline set up for what that request needs, and steps out of the way.
///
/// Only a connection's first request may upgrade to a WebSocket, and the machinery for it
/// (SwiftNIO's typed upgrade handler, Hummingbird's upgrade channel, whose async frames stay
/// in the connection's task for its life) costs every connection that has it: 30 KiB of
/// resident memory per idle event stream with it, 27 KiB without (2,000 streams, release
/// builds, measured twice each). So a connection whose first head has an `Upgrade` header gets
/// the WebSocket-capable pipeline (which also declines other upgrades, as before), and every
/// other connection the plain HTTP/1.1 one.
///
/// The ``ConnectionGuard``'s front handler is in front of this one: it times the head and
/// refuses one over the size limit, so what is held here is bounded by that limit. The bytes
/// held are passed on, in order, once the pipeline is in place.
final class FirstRequestSniffer<Choice: Sendable>: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        /// Reading the first head; `scanned` bytes of `head` have no blank line in them.
        case sniffing(scanned: Int)
        /// The pipeline is being set up (or was): see `handOff`.
        case configuring
    }

    private var state = State.sniffing(scanned: 0)
    /// The first head's bytes so far (a copy; `handOff` holds the reads themselves).
    private var head: [UInt8] = []
    private let maxHeadBytes: Int
    private let handOff: PipelineHandOff<Choice>
    private let configure: (_ upgrade: Bool, _ channel: any Channel) -> EventLoopFuture<Choice>

    /// - Parameters:
    ///   - maxHeadBytes: past this many bytes without a blank line the head is too large
    ///     anyway (the guard refuses it): the plain pipeline is chosen.
    ///   - promise: completed with what `configure` returns, or failed when the connection
    ///     closes first.
    ///   - configure: adds the handlers behind this one; `upgrade` says whether the first head
    ///     has an `Upgrade` header.
    init(maxHeadBytes: Int, promise: EventLoopPromise<Choice>,
         configure: @escaping (_ upgrade: Bool, _ channel: any Channel) -> EventLoopFuture<Choice>) {
        self.maxHeadBytes = maxHeadBytes
        self.handOff = PipelineHandOff(promise: promise)
        self.configure = configure
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        handOff.fail(ChannelError.inappropriateOperationForState)  // ignored once succeeded
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .sniffing(let scanned) = state else {
            if handOff.isDone { return context.fireChannelRead(data) }
            return handOff.hold(data)
        }
        handOff.hold(data)
        head += unwrapInboundIn(data).readableBytesView
        // The blank line may straddle reads: look again from three bytes back.
        if let end = Self.blankLine(in: head, from: max(0, scanned - 3)) {
            return choose(upgrade: Self.hasUpgradeHeader(head[..<end]), context: context)
        }
        if head.count > maxHeadBytes { return choose(upgrade: false, context: context) }
        state = .sniffing(scanned: head.count)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .sniffing = state {
            // Shutting down, or the client closed its side, before its first request was
            // whole: nothing to answer.
            if event is ChannelShouldQuiesceEvent { return context.close(promise: nil) }
            if let event = event as? ChannelEvent, event == .inputClosed { return context.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handOff.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    private func choose(upgrade: Bool, context: ChannelHandlerContext) {
        state = .configuring
        head = []
        handOff.handOff(when: configure(upgrade, context.channel), removing: self, context: context)
    }

    /// The index just past the first `\r\n\r\n` at or after `start`.
    static func blankLine(in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= 4, start <= bytes.count - 4 else { return nil }
        for i in start...(bytes.count - 4)
        where bytes[i] == 0x0D && bytes[i + 1] == 0x0A && bytes[i + 2] == 0x0D && bytes[i + 3] == 0x0A {
            return i + 4
        }
        return nil
    }

    /// Whether a head (request line and header lines) has a header line named `Upgrade`, in
    /// any case.
    static func hasUpgradeHeader(_ head: ArraySlice<UInt8>) -> Bool {
        let name = Array("\r\nupgrade:".utf8)
        guard head.count >= name.count else { return false }
        var i = head.startIndex
        while i <= head.endIndex - name.count {
            var j = 0
            // ASCII letters compare lowercased; `\r`, `\n` and `:` are unchanged by `| 0x20`.
            while j < name.count, head[i + j] | (name[j] >= 0x61 ? 0x20 : 0) == name[j] { j += 1 }
            if j == name.count { return true }
            i += 1
        }
        return false
    }
}

@available(*, unavailable)
extension FirstRequestSniffer: Sendable {}
