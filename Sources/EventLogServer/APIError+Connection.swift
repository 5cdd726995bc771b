import NIOCore
import NIOHTTP1

extension APIError {
    /// The answer to a request whose body could not be read to its end: the client closed or
    /// reset its side early (`400 incomplete_body`; the decoder reports that as an end of
    /// input in the wrong state), framed it wrongly (a malformed chunk: `400 invalid_request`),
    /// or stopped sending for the idle timeout (`408 request_timeout`). Either way it is the
    /// client's fault, and nothing was done.
    init(bodyNotReceived error: any Error) {
        if let error = error as? HTTPParserError, error != .invalidEOFState {
            self.init(.invalidRequest, "The request body is not valid HTTP/1.1 (\(error)); nothing was done.",
                      headers: [.connection: "close"])
        } else if error is ConnectionGuard.BodyStalled {
            self.init(.requestTimeout, "The request body stalled: nothing arrived for the server's idle timeout.",
                      headers: [.connection: "close"])
        } else {
            self.init(.incompleteBody, "The request body ended before its Content-Length (or last chunk); nothing was done.",
                      headers: [.connection: "close"])
        }
    }

    /// The error as a whole HTTP/1.1 answer written below the HTTP encoder, for a connection
    /// refused before any route saw its request: status line, JSON body, `Connection: close`.
    var closingAnswer: ByteBuffer {
        let body = self.body
        var head = "HTTP/1.1 \(code.status.code) \(code.status.reasonPhrase)\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + body.count)
        buffer.writeString(head)
        buffer.writeBytes(body)
        return buffer
    }
}
