import NIOCore

/// What the handler that chooses the pipeline behind it (``HTTPVersionSelector``) holds
/// meanwhile, and its hand-off once the pipeline is set up: the reads that came first are
/// passed on, in order, and the handler leaves.
final class PipelineHandOff<Value: Sendable> {
    /// Reads that arrived before the pipeline behind was set up.
    private(set) var held = CircularBuffer<NIOAny>()
    /// Whether the hand-off happened: reads go straight on.
    private(set) var isDone = false
    private let promise: EventLoopPromise<Value>

    /// A hand-off that completes `promise` with the set-up pipeline's value, or fails it.
    init(promise: EventLoopPromise<Value>) {
        self.promise = promise
    }

    /// Holds a read until the hand-off.
    func hold(_ data: NIOAny) {
        held.append(data)
    }

    /// The connection closed, or the handler left, first (ignored once succeeded).
    func fail(_ error: any Error) {
        promise.fail(error)
    }

    /// Once `configured` completes, on `context`'s event loop: completes the promise, passes
    /// the held reads on and removes `handler` from the pipeline; or, when setting up failed,
    /// fails the promise and closes the connection.
    func handOff(when configured: EventLoopFuture<Value>, removing handler: any RemovableChannelHandler,
                 context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, handler, context), eventLoop: context.eventLoop)
        configured.hop(to: context.eventLoop).whenComplete { result in
            let (handOff, handler, context) = bound.value
            handOff.isDone = true
            switch result {
            case .success(let value):
                handOff.promise.succeed(value)
                while let data = handOff.held.popFirst() { context.fireChannelRead(data) }
                context.fireChannelReadComplete()
                context.pipeline.syncOperations.removeHandler(handler, promise: nil)
            case .failure(let error):
                handOff.held.removeAll()
                handOff.promise.fail(error)
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension PipelineHandOff: Sendable {}
