@testable import EventLogServer
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The live fan-out writes each step's bytes to its HTTP/1.1 members as one chunk, framed by
/// itself below the response encoder (``FanoutHub/chunk(_:)``): the bytes must be exactly
/// those the encoder would have written for the same body part.
@Suite struct LiveFanoutFramingTests {
    /// What NIO's response encoder writes for `body`, after a head without `Content-Length`.
    func encoderBytes(_ body: [UInt8]) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: HTTPResponseEncoder())
        defer { _ = try? channel.finish() }
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        while try channel.readOutbound(as: IOData.self) != nil {}
        try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body))))
        var bytes: [UInt8] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = part else { Issue.record("a file region"); break }
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    @Test("a chunk is framed as the encoder frames it", arguments: [1, 9, 10, 15, 16, 255, 256, 4_095, 4_096, 65_537])
    func chunkMatchesTheEncoder(size: Int) throws {
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let framed = Array(FanoutHub.chunk(body).readableBytesView)
        #expect(framed == (try encoderBytes(body)))
    }
}
