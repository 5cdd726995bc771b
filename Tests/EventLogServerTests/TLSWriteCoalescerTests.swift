@testable import EventLogServer
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

/// What one flush writes reaches the TLS handler as one buffer while it fits in one record
/// (``TLSWriteCoalescer``), in order, with every write's promise kept; nothing is held past a
/// flush or a close.
@Suite struct TLSWriteCoalescerTests {
    func bytes(_ count: Int, _ seed: UInt8) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0) &+ seed })
    }

    /// Writes `sizes` (without flushing), flushes, and returns the sizes of the buffers that
    /// came out, checking that their bytes are the writes' bytes in order.
    func flushed(_ sizes: [Int]) throws -> [Int] {
        let channel = EmbeddedChannel(handler: TLSWriteCoalescer())
        defer { _ = try? channel.finish() }
        var written: [UInt8] = []
        for (index, size) in sizes.enumerated() {
            let buffer = bytes(size, UInt8(index))
            written += buffer.readableBytesView
            channel.write(buffer, promise: nil)
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing goes on before the flush")
        channel.flush()
        var out: [Int] = []
        var read: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            out.append(buffer.readableBytes)
            read += buffer.readableBytesView
        }
        #expect(read == written)
        return out
    }

    @Test func anHTTP2FrameHeaderAndItsPayloadBecomeOneBuffer() throws {
        #expect(try flushed([9, 45]) == [54])
        #expect(try flushed([120, 40, 9, 45, 9, 3]) == [226])
    }

    @Test func aFlushOfOneBufferIsPassedOnAsItIs() throws {
        #expect(try flushed([45]) == [45])
        #expect(try flushed([100_000]) == [100_000])
    }

    @Test func buffersAreMergedOnlyWhileTheyFitInOneRecord() throws {
        let record = TLSWriteCoalescer.recordSize
        #expect(try flushed([9, record - 9, 9, 45]) == [record, 54])
        #expect(try flushed([9, record, 9]) == [9, record, 9])
        #expect(try flushed([9, 3 * record, 40, 9]) == [9, 3 * record, 49])
    }

    @Test func everyPromiseIsKeptByTheMergedWrite() throws {
        let channel = EmbeddedChannel(handler: TLSWriteCoalescer())
        defer { _ = try? channel.finish() }
        let promises = (0..<3).map { _ in channel.eventLoop.makePromise(of: Void.self) }
        channel.write(bytes(9, 0), promise: promises[0])
        channel.write(bytes(45, 1), promise: nil)
        channel.write(bytes(9, 2), promise: promises[1])
        channel.write(bytes(45, 3), promise: promises[2])
        let kept = Atomic<Int>(0)
        for promise in promises { promise.futureResult.whenSuccess { kept.add(1, ordering: .relaxed) } }
        channel.flush()
        #expect(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes == 108)
        #expect(kept.load(ordering: .relaxed) == 3)
    }

    /// Notes the outbound operations that reach it (where the TLS handler would be).
    final class Operations: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var seen: [String] = []

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            seen.append("write \(unwrapOutboundIn(data).readableBytes)")
            context.write(data, promise: promise)
        }

        func flush(context: ChannelHandlerContext) {
            seen.append("flush")
            context.flush()
        }

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            seen.append("close")
            context.close(mode: mode, promise: promise)
        }
    }

    @Test func writesGatheredBeforeACloseGoOnBeforeIt() throws {
        let operations = Operations()
        let channel = EmbeddedChannel(handlers: [operations, TLSWriteCoalescer()])
        channel.write(bytes(9, 0), promise: nil)
        channel.write(bytes(45, 1), promise: nil)
        channel.flush()
        channel.write(bytes(9, 2), promise: nil)
        channel.write(bytes(45, 3), promise: nil)
        try channel.close().wait()
        #expect(operations.seen == ["write 54", "flush", "write 54", "close"])
        // What the channel still holds goes with it (else the pipeline outlives the test).
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
