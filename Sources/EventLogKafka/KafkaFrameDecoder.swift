import KafkaProtocol
import NIOCore

/// Splits a connection's bytes into request frames (the bytes after each int32 size prefix).
///
/// The size is checked (``KafkaFraming/frameSize(prefix:minimum:maxFrameBytes:)``) as soon as its
/// four bytes arrive: a negative, too small or too large size fails the channel before anything
/// is buffered for it.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = [UInt8]

    let maxFrameBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let prefix = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        let size = try KafkaFraming.frameSize(prefix: prefix, maxFrameBytes: maxFrameBytes)
        guard buffer.readableBytes >= KafkaFraming.prefixBytes + size else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: KafkaFraming.prefixBytes)
        let frame = buffer.readBytes(length: size)!
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A frame cut by the client closing is dropped with the connection.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
