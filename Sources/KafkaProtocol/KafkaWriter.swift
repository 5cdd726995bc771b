/// Writes Kafka's non-flexible primitive types into a growing byte array: big-endian integers,
/// int16-length strings, int32-length bytes and arrays, and size-prefixed frames.
public struct KafkaWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes before it grows.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// How many bytes were written.
    public var count: Int { bytes.count }

    @inline(__always)
    mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// An `int8`.
    public mutating func writeInt8(_ value: Int8) { writeInteger(value) }
    /// A big-endian `int16`.
    public mutating func writeInt16(_ value: Int16) { writeInteger(value) }
    /// A big-endian `uint16`.
    public mutating func writeUInt16(_ value: UInt16) { writeInteger(value) }
    /// A big-endian `int32`.
    public mutating func writeInt32(_ value: Int32) { writeInteger(value) }
    /// A big-endian `int64`.
    public mutating func writeInt64(_ value: Int64) { writeInteger(value) }
    /// A big-endian IEEE 754 `float64`.
    public mutating func writeFloat64(_ value: Double) { writeInteger(value.bitPattern) }
    /// A `boolean`: 1 or 0.
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// A `string`: int16 length and UTF-8.
    ///
    /// - Precondition: the string's UTF-8 form is at most 32,767 bytes (the format's limit).
    public mutating func writeString(_ value: String) {
        let utf8 = value.utf8
        precondition(utf8.count <= Int(Int16.max), "a Kafka string is at most 32767 bytes; this one has \(utf8.count)")
        writeInt16(Int16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A `nullable_string`: length -1 for `nil`.
    public mutating func writeNullableString(_ value: String?) {
        if let value { writeString(value) } else { writeInt16(-1) }
    }

    /// A `bytes` field: int32 length and the bytes.
    public mutating func writeBytes(_ value: [UInt8]) {
        writeLength(value.count)
        bytes.append(contentsOf: value)
    }

    /// A `nullable_bytes` field: length -1 for `nil`.
    public mutating func writeNullableBytes(_ value: [UInt8]?) {
        if let value { writeBytes(value) } else { writeInt32(-1) }
    }

    /// A `records` field: int32 length and the record batches as they are.
    public mutating func writeRecords(_ value: ArraySlice<UInt8>) {
        writeLength(value.count)
        bytes.append(contentsOf: value)
    }

    /// A nullable `records` field: length -1 for `nil`.
    public mutating func writeNullableRecords(_ value: ArraySlice<UInt8>?) {
        if let value { writeRecords(value) } else { writeInt32(-1) }
    }

    /// An array's count.
    public mutating func writeArrayCount(_ count: Int) { writeLength(count) }

    /// A null array (count -1).
    public mutating func writeNullArray() { writeInt32(-1) }

    /// Raw bytes, with no length in front.
    public mutating func writeRaw<C: Collection<UInt8>>(_ raw: C) { bytes.append(contentsOf: raw) }

    @inline(__always)
    mutating func writeLength(_ count: Int) {
        precondition(count <= Int(Int32.max), "a Kafka length or count is at most 2147483647; this one is \(count)")
        writeInt32(Int32(count))
    }

    // MARK: Frames

    /// Starts a size-prefixed frame: writes a placeholder int32 and returns its position for
    /// ``endFrame(startedAt:)``.
    public mutating func beginFrame() -> Int {
        let start = bytes.count
        writeInt32(0)
        return start
    }

    /// Ends the frame begun at `start`: patches its size prefix with the bytes written since.
    public mutating func endFrame(startedAt start: Int) {
        let size = bytes.count - start - 4
        precondition(size >= 0 && size <= Int(Int32.max), "frame of \(size) bytes")
        withUnsafeBytes(of: Int32(size).bigEndian) { raw in
            for i in 0..<4 { bytes[start + i] = raw[i] }
        }
    }
}
