import NIOCore

/// Gathers the buffers written to a TLS connection between two flushes into one, so that the
/// TLS handler in front of it (`NIOSSLHandler`, which seals each buffer it is given as records of
/// its own) seals what one flush sends as one record.
///
/// What is written in one flush comes in pieces: an HTTP/2 `DATA` frame is its 9-byte header
/// and its payload (SwiftNIO's HTTP/2 handler writes them as two buffers, so as not to copy the
/// payload), an HTTP/1.1 answer is its head and its body. Sealed one by one, a live event on an
/// HTTP/2 stream was two records (a 9-byte one, then the event): two `SSL_write`s and AEAD seals
/// for the server, two records to open for the client, 22 more bytes on the wire. Here the
/// pieces of a flush are copied into one buffer while they fit in one record (16 KiB of
/// plaintext, RFC 8446 §5.1); a piece that does not fit starts the next buffer, and one that is
/// a record or more by itself goes on as it is, uncopied. A flush of one buffer costs nothing.
///
/// Nothing is held past a flush: the buffers of a flush go on before it, and anything still
/// gathered goes on, in order, before any other outbound operation (a close, an outbound
/// event) and when the handler leaves the pipeline. The handler keeps no buffer of its own
/// between flushes (an idle connection costs its small array of pending writes); the promises
/// of merged writes complete with the merged write.
final class TLSWriteCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most plaintext one TLS record carries (RFC 8446 §5.1; RFC 5246 §6.2.1).
    static let recordSize = 16_384

    private struct Write {
        var buffer: ByteBuffer
        var promise: EventLoopPromise<Void>?
    }

    /// The writes since the last flush, in order.
    private var pending: [Write] = []
    /// The channel's allocator, taken once: reaching it through the context per flush was ~1 %
    /// of logd's samples in the paced HTTP/2 fan-out (Docs/BENCHMARKS.md).
    private var allocator = ByteBufferAllocator()

    init() {}

    func handlerAdded(context: ChannelHandlerContext) {
        allocator = context.channel.allocator
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        pending.append(Write(buffer: unwrapOutboundIn(data), promise: promise))
    }

    func flush(context: ChannelHandlerContext) {
        forwardPending(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        forwardPending(context: context)
        context.close(mode: mode, promise: promise)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        forwardPending(context: context)
        context.triggerUserOutboundEvent(event, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        forwardPending(context: context)
    }

    /// Writes the gathered buffers on, merged while they fit in one record, without flushing.
    private func forwardPending(context: ChannelHandlerContext) {
        guard !pending.isEmpty else { return }
        // Taken out first: a write made while these are written on (from a promise's callback)
        // is gathered for the next flush, as the TLS handler would hold it after its flush mark.
        var writes: [Write] = []
        swap(&writes, &pending)
        var index = writes.startIndex
        while index < writes.endIndex {
            var end = index + 1
            var size = writes[index].buffer.readableBytes
            while end < writes.endIndex, size + writes[end].buffer.readableBytes <= Self.recordSize {
                size += writes[end].buffer.readableBytes
                end += 1
            }
            if end == index + 1 {
                context.write(wrapOutboundOut(writes[index].buffer), promise: writes[index].promise)
            } else {
                var merged = allocator.buffer(capacity: size)
                var promise: EventLoopPromise<Void>?
                for write in writes[index..<end] {
                    merged.writeImmutableBuffer(write.buffer)
                    guard let next = write.promise else { continue }
                    if let first = promise {
                        first.futureResult.cascade(to: next)
                    } else {
                        promise = next
                    }
                }
                context.write(wrapOutboundOut(merged), promise: promise)
            }
            index = end
        }
        // The array's storage is kept for the next flush, unless writes came in meanwhile.
        writes.removeAll(keepingCapacity: true)
        if pending.isEmpty { pending = writes }
    }
}

@available(*, unavailable)
extension TLSWriteCoalescer: Sendable {}
