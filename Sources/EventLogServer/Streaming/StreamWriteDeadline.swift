import Hummingbird
import Logging
import NIOCore

/// Writes a stream's bytes (SSE) or frames (WebSocket), closing the connection when one write
/// makes no progress within ``LogServerConfiguration/stuckStreamTimeout``.
///
/// A write suspends while the connection's outbound buffer is above its high-water mark, that
/// is, while the client reads nothing. The deadline is a task scheduled on the connection's
/// event loop for each write and cancelled when the write returns; when it fires, the channel
/// is closed, the pending write fails and the stream ends. The client resumes by its
/// `Last-Event-ID`. Without a channel (test contexts) or a timeout, writes just wait.
///
/// Over the server's own HTTP/1.1 layer (``HTTP1BodyWriter``) a write says whether it waits,
/// and the deadline is scheduled only then: most writes (every stream's first) do not, and a
/// storm of new streams spent a timer's scheduling and cancelling on each.
struct StreamWriteDeadline: Sendable {
    let channel: (any Channel)?
    let timeout: Duration?
    let server: LogServer

    /// Writes `bytes` (nothing when empty) within the deadline.
    func write(_ bytes: [UInt8], to writer: inout any ResponseBodyWriter) async throws {
        guard !bytes.isEmpty else { return }
        guard channel != nil, timeout != nil else { return try await writer.write(ByteBuffer(bytes: bytes)) }
        if let direct = writer as? HTTP1BodyWriter {
            guard let drained = try await direct.writeReturningWait(ByteBuffer(bytes: bytes)) else { return }
            let deadline = schedule()
            defer { deadline?.cancel() }
            return try await drained.get()
        }
        let deadline = schedule()
        defer { deadline?.cancel() }
        try await writer.write(ByteBuffer(bytes: bytes))
    }

    /// Runs one write of another kind (a WebSocket frame) within the deadline.
    func within<T>(_ write: () async throws -> T) async throws -> T {
        let deadline = schedule()
        defer { deadline?.cancel() }
        return try await write()
    }

    private func schedule() -> Scheduled<Void>? {
        guard let channel, let timeout else { return nil }
        let server = self.server
        return channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            server.metrics.stuckStreamClosed()
            server.logger.notice("Closing a stream whose client read nothing for \(timeout)")
            channel.close(promise: nil)
        }
    }
}
