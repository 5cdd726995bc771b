public import HTTPTypes
public import Hummingbird
import NIOCore

extension APIError: HTTPResponseError {
    /// The HTTP status of the error's code.
    public var status: HTTPResponse.Status { code.status }

    /// The answer: the code's status, the error's headers, and the JSON body
    /// `{"error", "message", …}`. Hummingbird asks for it when a route throws the error, so the
    /// answer is the same wherever the routes are mounted; ``JSONErrorMiddleware`` adds the
    /// mapping of other errors, logging and metrics.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The answer, for callers without a request at hand.
    func response() -> Response {
        Response(status: status, headers: responseHead.headerFields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The answer's head: the code's status, the error's headers and `Content-Type`.
    var responseHead: HTTPResponse {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return HTTPResponse(status: status, headerFields: headers)
    }
}
