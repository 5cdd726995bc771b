import NIOCore

/// Closes a connection when `IdleStateHandler` reports that nothing was read from it for the
/// idle timeout (Kafka's `connections.max.idle.ms`), so idle clients cannot hold connection
/// slots forever.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
