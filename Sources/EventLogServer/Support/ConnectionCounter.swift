import NIOCore
import Synchronization

/// Counts the server's open connections: a handler in each connection's pipeline adds one
/// when it is added and takes it away when the connection closes.
final class ConnectionCounter: Sendable {
    private let open = Atomic<Int>(0)

    /// The open connections now.
    var current: Int { open.load(ordering: .relaxed) }

    /// A handler for one new connection's pipeline.
    func makeHandler() -> ConnectionCountingHandler { ConnectionCountingHandler(counter: self) }

    fileprivate func opened() { open.add(1, ordering: .relaxed) }
    fileprivate func closed() { open.subtract(1, ordering: .relaxed) }
}

/// Counts its connection in a ``ConnectionCounter`` from when it is added until the channel
/// closes (the count survives the handler's removal, as on a WebSocket upgrade).
final class ConnectionCountingHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private let counter: ConnectionCounter
    private let counted = Atomic<Bool>(false)

    init(counter: ConnectionCounter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        guard !counted.exchange(true, ordering: .relaxed) else { return }
        counter.opened()
        let counter = self.counter
        context.channel.closeFuture.whenComplete { _ in counter.closed() }
    }
}
