import NIOCore

extension Channel {
    /// Ends the connection a request came on, once its answer is written, whichever HTTP
    /// version it speaks.
    ///
    /// - HTTP/1.1 (`self` is the connection): its input is shut, and Hummingbird closes the
    ///   connection when the answer is out (`Connection: close` alone does not while a body is unread).
    /// - HTTP/2 (`self` is a stream, whose parent is the connection, whose parent is the
    ///   listening socket): the connection is sent `GOAWAY`; it closes once its open streams
    ///   end, or after the shutdown grace period.
    func closeConnectionAfterAnswer() {
        if let connection = parent, connection.parent != nil {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        } else {
            close(mode: .input, promise: nil)
        }
    }
}
