/// Reads Kafka's non-flexible primitive types (big-endian integers, int16-length strings,
/// int32-length bytes and arrays) from a frame, checking every length and count a client sends.
///
/// Nothing read from the input is trusted: a length or count is checked against the bytes left
/// before anything is allocated for it, so a hostile frame costs at most its own size, and every
/// failure is a ``KafkaProtocolError``, never a trap. Strings must be valid UTF-8; booleans must
/// be 0 or 1, so that a decoded message encodes back to the same bytes.
public struct KafkaReader: Sendable {
    /// The bytes being read (a whole frame, usually).
    public let bytes: [UInt8]
    /// The index of the next byte to read.
    public private(set) var position: Int
    /// The index after the last readable byte.
    public let endIndex: Int

    /// A reader over all of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.endIndex = bytes.count
    }

    /// A reader over `range` of `bytes`.
    ///
    /// - Precondition: `range` lies within `bytes`.
    public init(_ bytes: [UInt8], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "reader range \(range) outside \(bytes.count) bytes")
        self.bytes = bytes
        self.position = range.lowerBound
        self.endIndex = range.upperBound
    }

    /// How many bytes are left to read.
    public var remaining: Int { endIndex - position }

    /// Throws ``KafkaProtocolError/Code/trailingBytes`` unless every byte was read.
    public func expectEnd() throws(KafkaProtocolError) {
        guard remaining == 0 else {
            throw KafkaProtocolError(.trailingBytes, "\(remaining) bytes are left after the end of the body.")
        }
    }

    // MARK: Fixed-size values

    @inline(__always)
    mutating func readInteger<T: FixedWidthInteger>(_: T.Type) throws(KafkaProtocolError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else {
            throw KafkaProtocolError(.truncated, "the frame ends at byte \(endIndex) while a \(size)-byte integer at byte \(position) was expected.")
        }
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: T.self) }
        position += size
        return T(bigEndian: value)
    }

    /// An `int8`.
    public mutating func readInt8() throws(KafkaProtocolError) -> Int8 { try readInteger(Int8.self) }
    /// A big-endian `int16`.
    public mutating func readInt16() throws(KafkaProtocolError) -> Int16 { try readInteger(Int16.self) }
    /// A big-endian `uint16`.
    public mutating func readUInt16() throws(KafkaProtocolError) -> UInt16 { try readInteger(UInt16.self) }
    /// A big-endian `int32`.
    public mutating func readInt32() throws(KafkaProtocolError) -> Int32 { try readInteger(Int32.self) }
    /// A big-endian `int64`.
    public mutating func readInt64() throws(KafkaProtocolError) -> Int64 { try readInteger(Int64.self) }
    /// A big-endian IEEE 754 `float64`.
    public mutating func readFloat64() throws(KafkaProtocolError) -> Double {
        Double(bitPattern: try readInteger(UInt64.self))
    }

    /// A `boolean`: one byte, 0 or 1.
    public mutating func readBool(field: StaticString) throws(KafkaProtocolError) -> Bool {
        let byte = try readInteger(UInt8.self)
        guard byte <= 1 else {
            throw KafkaProtocolError(.invalidValue, "\(field) is a boolean of value \(byte); only 0 and 1 are allowed.")
        }
        return byte == 1
    }

    // MARK: Lengths and counts

    /// A length prefix: `nil` for -1 when `nullable`, else a length that fits in the bytes left.
    @inline(__always)
    mutating func readLength<T: FixedWidthInteger & SignedInteger>(_: T.Type, field: StaticString, nullable: Bool) throws(KafkaProtocolError) -> Int? {
        let length = try readInteger(T.self)
        if length == -1 {
            guard nullable else {
                throw KafkaProtocolError(.invalidLength, "\(field) is null (length -1), which it may not be at this version.")
            }
            return nil
        }
        guard length >= 0 else {
            throw KafkaProtocolError(.invalidLength, "\(field) has the negative length \(length).")
        }
        guard Int(length) <= remaining else {
            throw KafkaProtocolError(.invalidLength, "\(field) has a length of \(length) bytes but only \(remaining) are left in the frame.")
        }
        return Int(length)
    }

    /// An array count: `nil` for -1 when `nullable`, else a count whose elements, at
    /// `minElementBytes` each, fit in the bytes left (so the count bounds any allocation).
    @inline(__always)
    mutating func readCount(field: StaticString, minElementBytes: Int, nullable: Bool) throws(KafkaProtocolError) -> Int? {
        let count = try readInteger(Int32.self)
        if count == -1 {
            guard nullable else {
                throw KafkaProtocolError(.invalidCount, "\(field) is a null array (count -1), which it may not be at this version.")
            }
            return nil
        }
        guard count >= 0 else {
            throw KafkaProtocolError(.invalidCount, "\(field) has the negative count \(count).")
        }
        guard Int(count) <= remaining / max(1, minElementBytes) else {
            throw KafkaProtocolError(.invalidCount, "\(field) has \(count) elements of at least \(minElementBytes) bytes each but only \(remaining) bytes are left in the frame.")
        }
        return Int(count)
    }

    /// The count of a non-nullable array.
    public mutating func readArrayCount(field: StaticString, minElementBytes: Int) throws(KafkaProtocolError) -> Int {
        // A non-nullable read never returns nil.
        try readCount(field: field, minElementBytes: minElementBytes, nullable: false) ?? 0
    }

    /// The count of a nullable array: `nil` for a null array.
    public mutating func readNullableArrayCount(field: StaticString, minElementBytes: Int) throws(KafkaProtocolError) -> Int? {
        try readCount(field: field, minElementBytes: minElementBytes, nullable: true)
    }

    // MARK: Strings and bytes

    @inline(__always)
    mutating func take(_ count: Int) -> Range<Int> {
        let start = position
        position += count
        return start..<position
    }

    @inline(__always)
    mutating func string(of count: Int, field: StaticString) throws(KafkaProtocolError) -> String {
        let range = take(count)
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw KafkaProtocolError(.invalidValue, "\(field) is not valid UTF-8.")
        }
        return text
    }

    /// A `string`: an int16 length and UTF-8 bytes.
    public mutating func readString(field: StaticString) throws(KafkaProtocolError) -> String {
        let count = try readLength(Int16.self, field: field, nullable: false) ?? 0
        return try string(of: count, field: field)
    }

    /// A `nullable_string`: `nil` for length -1.
    public mutating func readNullableString(field: StaticString) throws(KafkaProtocolError) -> String? {
        guard let count = try readLength(Int16.self, field: field, nullable: true) else { return nil }
        return try string(of: count, field: field)
    }

    /// A `bytes` field: an int32 length and the bytes, copied.
    public mutating func readBytes(field: StaticString) throws(KafkaProtocolError) -> [UInt8] {
        let count = try readLength(Int32.self, field: field, nullable: false) ?? 0
        return Array(bytes[take(count)])
    }

    /// A `nullable_bytes` field, copied: `nil` for length -1.
    public mutating func readNullableBytes(field: StaticString) throws(KafkaProtocolError) -> [UInt8]? {
        guard let count = try readLength(Int32.self, field: field, nullable: true) else { return nil }
        return Array(bytes[take(count)])
    }

    /// A `records` field (record batches, never decoded here): a slice of the frame, not a copy.
    public mutating func readRecords(field: StaticString) throws(KafkaProtocolError) -> ArraySlice<UInt8> {
        let count = try readLength(Int32.self, field: field, nullable: false) ?? 0
        return bytes[take(count)]
    }

    /// A nullable `records` field: a slice of the frame, or `nil` for length -1.
    public mutating func readNullableRecords(field: StaticString) throws(KafkaProtocolError) -> ArraySlice<UInt8>? {
        guard let count = try readLength(Int32.self, field: field, nullable: true) else { return nil }
        return bytes[take(count)]
    }
}
