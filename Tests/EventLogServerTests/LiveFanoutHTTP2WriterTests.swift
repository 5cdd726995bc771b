import EventLog
@testable import EventLogServer
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP2
import NIOHTTPTypesHTTP2
import Synchronization
import Testing

/// The live fan-out writes each step to an HTTP/2 member as a `DATA` frame's payload below
/// everything of the server's own in the stream's pipeline (``FanoutHub/Writer/dataFrames(_:)``):
/// the ``HTTP2StreamGuard`` looks only at heads and at frames that end the stream, which a step
/// never is, so a step goes straight to the stream channel (the guard's pass was ~2 % of logd's
/// samples in the paced HTTP/2 fan-out, one per member and event; Docs/BENCHMARKS.md).
@Suite struct LiveFanoutHTTP2WriterTests {
    /// A stream's pipeline as `HTTP2RequestStream` builds it: the guard in front of the codec.
    func streamChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let limits = ConnectionLimits(maxHeaderBytes: 16_384, headerTimeout: .seconds(10), idleTimeout: .seconds(10))
        try channel.pipeline.syncOperations.addHandler(HTTP2StreamGuard(limits: limits, metrics: ServerMetrics(), logger: Logger(label: "test")))
        try channel.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTPServerCodec())
        return channel
    }

    @Test("a step reaches an HTTP/2 stream below its guard, as one DATA payload that does not end the stream")
    func aStepIsWrittenBelowTheStreamGuard() throws {
        let channel = try streamChannel()
        defer { _ = try? channel.finish() }
        let writer = FanoutHub.Writer(channel: channel)
        guard case .dataFrames(let context) = writer else {
            Issue.record("an HTTP/2 member is written as DATA payloads, not \(writer)")
            return
        }
        #expect(context.handler is HTTP2StreamGuard, "written from the guard's place: the next handler is the stream channel itself")

        let member = FanoutHub.Member(id: 1, channel: channel, writer: writer, resume: { _ in })
        let event = Array("id: 0-1\ndata: {\"value\":1}\n\n".utf8)
        let finished = Atomic(false)
        FanoutHub.LoopStep([FanoutHub.Target(member)], .events(event, from: TopicPosition(nextOffsets: [0])), on: channel.embeddedEventLoop,
                           ended: { false }, evict: { _ in Issue.record("the member was evicted") },
                           done: { finished.store(true, ordering: .relaxed) })
            .writeTurn(from: 0)
        let written = finished.load(ordering: .relaxed)
        #expect(written, "the step is written in one turn")
        guard case .data(let data)? = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("no DATA frame was written")
            return
        }
        #expect(!data.endStream)
        guard case .byteBuffer(let buffer) = data.data else {
            Issue.record("a file region")
            return
        }
        #expect(Array(buffer.readableBytesView) == event)
        #expect(try channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil, "one frame per step")
    }
}
