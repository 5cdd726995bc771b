import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOHTTPTypesHTTP2

/// One HTTP/2 stream of a connection: one request to the server's routes, guarded by an
/// ``HTTP2StreamGuard`` and read and answered as Hummingbird reads and answers an HTTP/1.1
/// request (the same responder, the same `Request` and `ResponseWriter`).
///
/// The request's context gets the stream's channel: closing it (the stuck-stream timeout)
/// resets that stream alone.
struct HTTP2RequestStream: HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: Responder
    let limits: ConnectionLimits
    let metrics: ServerMetrics

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(HTTP2StreamGuard(limits: limits, metrics: metrics, logger: logger))
            try pipeline.addHandler(HTTP2FramePayloadToHTTPServerCodec())
            return try Value(wrappingChannelSynchronously: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
