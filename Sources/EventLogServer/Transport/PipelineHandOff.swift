import NIOCore

/// The pipeline a choosing handler (``HTTPVersionSelector``) had set up behind it: at once
/// (the plain HTTP/1.1 pipeline, added in place), or once a future completes (the WebSocket
/// upgrade channel, HTTP/2).
enum PipelineSetUp<Value> {
    /// Set up, in place: the hand-off happens at once, with no future.
    case done(Value)
    /// Setting up failed: the connection is closed.
    case failed(any Error)
    /// Set up once the future completes.
    case pending(EventLoopFuture<Value>)
}

/// What the handler that chooses the pipeline behind it (``HTTPVersionSelector``) holds
/// meanwhile, and its hand-off once the pipeline is set up: the reads that came first are
/// passed on, in order, and the handler leaves.
final class PipelineHandOff<Value: Sendable> {
    /// Reads that arrived before the pipeline behind was set up.
    private(set) var held = CircularBuffer<NIOAny>()
    /// Whether the hand-off happened: reads go straight on.
    private(set) var isDone = false
    /// Told the outcome, once: the set-up pipeline's value, or why there is none.
    private var chosen: ((Result<Value, any Error>) -> Void)?

    /// A hand-off that tells `chosen` the set-up pipeline's value, or why there is none (once,
    /// on the connection's event loop).
    init(chosen: @escaping (Result<Value, any Error>) -> Void) {
        self.chosen = chosen
    }

    /// Holds a read until the hand-off.
    func hold(_ data: NIOAny) {
        held.append(data)
    }

    /// The connection closed, or the handler left, first (ignored once told).
    func fail(_ error: any Error) {
        tell(.failure(error))
    }

    /// Once `setUp` is done, on `context`'s event loop: tells the value, passes the held reads
    /// on and removes `handler` from the pipeline; or, when setting up failed, tells why and
    /// closes the connection. A pipeline set up in place is handed off at once: no future, no
    /// callback (a storm of new streams pays for each per connection, ADR 0007).
    func handOff(_ setUp: PipelineSetUp<Value>, removing handler: any RemovableChannelHandler, context: ChannelHandlerContext) {
        switch setUp {
        case .done(let value):
            finish(.success(value), removing: handler, context: context)
        case .failed(let error):
            finish(.failure(error), removing: handler, context: context)
        case .pending(let configured):
            let bound = NIOLoopBound((self, handler, context), eventLoop: context.eventLoop)
            configured.hop(to: context.eventLoop).whenComplete { result in
                let (handOff, handler, context) = bound.value
                handOff.finish(result, removing: handler, context: context)
            }
        }
    }

    private func finish(_ result: Result<Value, any Error>, removing handler: any RemovableChannelHandler,
                        context: ChannelHandlerContext) {
        isDone = true
        switch result {
        case .success:
            tell(result)
            while let data = held.popFirst() { context.fireChannelRead(data) }
            context.fireChannelReadComplete()
            context.pipeline.syncOperations.removeHandler(handler, promise: nil)
        case .failure:
            held.removeAll()
            tell(result)
            context.close(promise: nil)
        }
    }

    private func tell(_ result: Result<Value, any Error>) {
        guard let chosen else { return }
        self.chosen = nil
        chosen(result)
    }
}

@available(*, unavailable)
extension PipelineHandOff: Sendable {}
