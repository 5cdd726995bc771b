import EventLog
@testable import EventLogServer
import NIOCore
import Testing

/// ``DecimalText``: the same text as `String(value)`, for every kind of integer.
@Suite struct DecimalTextTests {
    static let edges: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, 1_000_000_007, Int64(Int32.max), Int64(Int32.min), .max, .min, .max - 1, .min + 1]

    @Test func theTextIsStringsForEdgesAndRandomValues() {
        var generator = SystemRandomNumberGenerator()
        let values = Self.edges + (0..<2_000).map { _ in Int64.random(in: .min ... .max, using: &generator) >> Int64.random(in: 0...63, using: &generator) }
        for value in values {
            var buffer = ByteBuffer()
            let written = buffer.writeDecimal(value)
            var bytes: [UInt8] = [0x7B]
            bytes.appendDecimal(value)
            #expect(buffer.readString(length: written) == String(value))
            #expect(bytes == [0x7B] + Array(String(value).utf8))
        }
    }

    /// The produce shortcut's answer is the route's, byte for byte.
    @Test(arguments: [(0, 0, 1), (3, 41, 42), (12, 9, 12), (0, 999_999_999_999, 1_000_000_000_002)])
    func aProduceAnswerWrittenInPlaceIsTheRoutes(partition: Int, first: Int64, end: Int64) {
        let range = OffsetRange(first: Offset(first), end: Offset(end))
        var buffer = ByteBuffer()
        ProduceAnswer.writeJSON(partition: partition, range: range, into: &buffer)
        #expect(Array(buffer.readableBytesView) == ProduceAnswer(partition: partition, range: range).json())
    }
}
