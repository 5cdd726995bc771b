import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// NIO's HTTP/1.1 request and response parts to HTTP types and back, for ``HTTP1Connection``:
/// what `NIOHTTPTypesHTTP1`'s `HTTP1ToHTTPServerCodec` does, except that a request target of
/// origin form (`/path?query`, every request but a proxy's) is taken as it is.
///
/// The library finds the path of every target with Foundation's `URLComponents`, for the
/// absolute form (`http://host/path`) only: a target that starts with `/` has no scheme, and
/// the library returns it unchanged. That parse was ~1 % of logd's CPU per event stream opened
/// (`perf`, 10,000 streams). Other targets (absolute form, `*`) go through the library's
/// conversion, so the result is the library's for every request
/// (`HTTP1TypesCodecTests`).
final class HTTP1TypesCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// `https` or `http`: the scheme of every request.
    private let secure: Bool

    init(secure: Bool) {
        self.secure = secure
    }

    /// The request `head` says, in HTTP types: as `HTTPRequest(head, secure:splitCookie: false)`.
    static func request(_ head: HTTPRequestHead, secure: Bool) throws -> HTTPRequest {
        guard head.uri.utf8.first == UInt8(ascii: "/") else {
            return try HTTPRequest(head, secure: secure, splitCookie: false)
        }
        return HTTPRequest(
            method: try HTTPRequest.Method(head.method), scheme: secure ? "https" : "http",
            authority: head.headers.first(name: "Host"), path: head.uri,
            headerFields: HTTPFields(head.headers, splitCookie: false))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            do {
                context.fireChannelRead(wrapInboundOut(.head(try Self.request(head, secure: secure))))
            } catch {
                context.fireErrorCaught(error)
            }
        case .body(let body):
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case .end(let trailers):
            context.fireChannelRead(wrapInboundOut(.end(trailers.map { HTTPFields($0, splitCookie: false) })))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            context.write(wrapOutboundOut(.head(HTTPResponseHead(response))), promise: promise)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: promise)
        case .end(let trailers):
            context.write(wrapOutboundOut(.end(trailers.map(HTTPHeaders.init))), promise: promise)
        }
    }
}

@available(*, unavailable)
extension HTTP1TypesCodec: Sendable {}
