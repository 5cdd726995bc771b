import Hummingbird
import HTTPTypes
import NIOCore

/// Compresses JSON answers of at least ``minimumBytes`` with gzip when the request accepts it
/// (`Accept-Encoding: gzip`): a fetch of a thousand records shrinks several times, which is
/// what mobile clients on slow links notice. Event streams compress themselves, per event.
///
/// Only answers whose body is one buffer of known length are compressed (every JSON answer
/// here), at zlib level 1: the cost is a few milliseconds per megabyte, paid once.
struct GzipJSONMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Smaller answers are sent as they are: gzip's header and trailer would not pay.
    static var minimumBytes: Int { 1024 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        guard acceptsGzip(request.headers[.acceptEncoding]),
              response.headers[.contentEncoding] == nil,
              response.headers[.contentType]?.hasPrefix("application/json") == true,
              let length = response.body.contentLength, length >= Self.minimumBytes
        else { return response }
        let collector = BodyCollector()
        try await response.body.write(collector)
        response.headers[.contentEncoding] = "gzip"
        response.headers[.vary] = "Accept-Encoding"
        response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: Self.compressed(collector.bytes)))
        return response
    }

    /// `json` compressed as this middleware compresses an answer (for the produce shortcut,
    /// whose answers it does not see): the caller sets `Content-Encoding` and `Vary`.
    static func compressed(_ json: [UInt8]) -> [UInt8] {
        let gzip = GzipStream(level: 1)
        var compressed: [UInt8] = []
        compressed.reserveCapacity(json.count / 3)
        gzip.compress(json, into: &compressed)
        gzip.finish(into: &compressed)
        return compressed
    }
}

/// Takes the bytes of a response body written to it.
private final class BodyCollector: ResponseBodyWriter {
    var bytes: [UInt8] = []

    func write(_ buffer: ByteBuffer) async throws {
        bytes.append(contentsOf: buffer.readableBytesView)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
