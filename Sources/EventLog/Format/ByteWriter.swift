/// Appends big-endian integers and Kafka's zig-zag varints to a byte array.
@usableFromInline
struct ByteWriter {
    @usableFromInline var bytes: [UInt8]

    @inlinable init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable init(bytes: [UInt8]) { self.bytes = bytes }

    @inlinable var count: Int { bytes.count }

    @inlinable mutating func write(_ value: UInt8) { bytes.append(value) }

    @inlinable mutating func write<T: FixedWidthInteger>(bigEndian value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable mutating func write(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    @inlinable mutating func write(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// A length-prefixed field: the length as a varint (-1 for `nil`), then the bytes.
    mutating func writeField(_ field: RecordBytes?) {
        guard let field else { return writeVarint(-1) }
        writeVarint(Int64(field.count))
        field.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// A record's headers after their count: each a name (varint length, UTF-8) and a value field.
    mutating func writeHeaders(_ headers: RecordHeaders) {
        for h in headers {
            writeVarint(Int64(h.name.utf8.count))
            bytes.append(contentsOf: h.name.utf8)
            writeField(h.value)
        }
    }

    /// Kafka's `varint`/`varlong`: zig-zag, then base-128 little-endian groups.
    @inlinable mutating func writeVarint(_ value: Int64) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Overwrites a big-endian integer at a given index.
    @inlinable mutating func set<T: FixedWidthInteger>(bigEndian value: T, at index: Int) {
        withUnsafeBytes(of: value.bigEndian) { raw in
            for i in 0..<raw.count { bytes[index + i] = raw[i] }
        }
    }
}

/// The number of bytes `ByteWriter.writeVarint` writes for `value`.
@inlinable
func varintSize(_ value: Int64) -> Int {
    var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
    var n = 1
    while v >= 0x80 {
        v >>= 7
        n += 1
    }
    return n
}

/// Runs `body` over an array's bytes, keeping the typed `LogError` (the standard library's
/// `withUnsafeBytes` rethrows untyped).
@inlinable
func withBytes<R, Element>(of array: [Element], _ body: (UnsafeRawBufferPointer) throws(LogError) -> R) throws(LogError) -> R {
    let result: Result<R, LogError> = array.withUnsafeBytes { raw in
        do throws(LogError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// Runs `body` over an array's bytes, keeping the typed `LogError` (the standard library's
/// `withUnsafeBytes` rethrows untyped).
@inlinable
func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(LogError) -> R) throws(LogError) -> R {
    try withBytes(of: array, body)
}
