import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// A Hummingbird child channel (HTTP/1.1, with or without WebSocket upgrades) whose every
/// connection is guarded from its accept: a ``ConnectionGuard`` at the front of the pipeline
/// and after the HTTP decoder, and a place in the server's ``ConnectionRegistry``.
///
/// Hummingbird adds its own handlers only once a first request head has been decoded, so a
/// connection that never finishes a head would otherwise be seen by nothing.
struct GuardedHTTPChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value

    let inner: Inner
    let limits: ConnectionLimits
    let registry: ConnectionRegistry
    let metrics: ServerMetrics

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let connection = ConnectionGuard(limits: limits, metrics: metrics, logger: logger)
        do {
            try channel.pipeline.syncOperations.addHandler(connection.makeRawBytesHandler(), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        registry.register(channel)
        return inner.setup(channel: channel, logger: logger).assumeIsolated().flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(connection.makeRequestPartsHandler(), position: .after(decoder))
            return value
        }.nonisolated()
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
