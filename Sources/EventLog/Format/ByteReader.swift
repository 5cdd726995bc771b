/// Reads big-endian integers and Kafka's zig-zag varints from raw bytes, with bounds checks.
///
/// Every read throws ``LogError/Code/corruptData`` rather than trapping when the bytes run
/// out or a varint is malformed, so damaged files are reported, never crash the reader.
@usableFromInline
struct ByteReader {
    @usableFromInline let buffer: UnsafeRawBufferPointer
    @usableFromInline var position: Int

    @inlinable init(_ buffer: UnsafeRawBufferPointer, position: Int = 0) {
        self.buffer = buffer
        self.position = position
    }

    @inlinable var remaining: Int { buffer.count - position }

    @usableFromInline static func truncated() -> LogError {
        LogError(.corruptData, "a record ends before its declared length.")
    }

    @inlinable mutating func readInteger<T: FixedWidthInteger>(_: T.Type = T.self) throws(LogError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw Self.truncated() }
        let value = buffer.loadUnaligned(fromByteOffset: position, as: T.self)
        position += size
        return T(bigEndian: value)
    }

    @inlinable mutating func readByte() throws(LogError) -> UInt8 {
        guard remaining >= 1 else { throw Self.truncated() }
        let b = buffer[position]
        position += 1
        return b
    }

    @inlinable mutating func readVarint() throws(LogError) -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < buffer.count else { throw Self.truncated() }
            let b = buffer[position]
            position += 1
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            guard shift < 64 else { throw LogError(.corruptData, "a varint is longer than 10 bytes.") }
        }
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
    }

    /// A length-prefixed field: `nil` for length -1, else the bytes' range within `buffer`.
    @inlinable mutating func readBytesRange() throws(LogError) -> Range<Int>? {
        let length = try readVarint()
        if length == -1 { return nil }
        guard length >= 0, length <= Int64(remaining) else {
            throw LogError(.corruptData, "a field length of \(length) runs past the end of its record.")
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    @inlinable func bytes(_ range: Range<Int>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: buffer[range]))
    }
}
