/// A record as read back from a partition: the ``Record`` that was appended, at its offset,
/// with the timestamp it was stored with.
///
/// A stored record is an index into the buffer its read filled (Docs/adr/0002-zero-copy-reads.md):
/// its ``key``, ``value`` and ``headers`` are views into that buffer, made when asked for, so a
/// read allocates nothing per record. Views are safe to keep, pass to other tasks and store:
/// each keeps the buffer it points into alive. To keep a few records long after the read
/// without keeping the whole buffer (up to a megabyte), keep their ``copied()`` versions.
public struct StoredRecord: Sendable {
    /// The record's offset in its partition.
    public let offset: Offset
    /// Milliseconds since the Unix epoch: the record's own, or the append's time.
    public let timestamp: Int64
    /// The buffer the key, value and headers are in: a read's, or the record's own.
    @usableFromInline let buffer: ReadBuffer
    /// Where the key starts in ``buffer``, and its length (-1: no key).
    @usableFromInline let keyStart: UInt32, keyCount: Int32
    /// Where the value starts in ``buffer``, and its length (-1: a tombstone).
    @usableFromInline let valueStart: UInt32, valueCount: Int32
    /// The encoded headers section in ``buffer``, and how many headers it holds.
    let headersStart: UInt32, headersEnd: UInt32, headerCount: Int32

    /// A record whose fields sit in `buffer` at the positions a decoded record view gives.
    init(offset: Offset, timestamp: Int64, buffer: ReadBuffer, key: Range<Int>?, value: Range<Int>?, headers: Range<Int>, headerCount: Int) {
        precondition(buffer.capacity <= Int(UInt32.max), "a read buffer is smaller than 4 GiB")
        self.offset = offset
        self.timestamp = timestamp
        self.buffer = buffer
        keyStart = UInt32(key?.lowerBound ?? 0)
        keyCount = key.map { Int32($0.count) } ?? -1
        valueStart = UInt32(value?.lowerBound ?? 0)
        valueCount = value.map { Int32($0.count) } ?? -1
        headersStart = UInt32(headers.lowerBound)
        headersEnd = UInt32(headers.upperBound)
        self.headerCount = Int32(headerCount)
    }

    /// The record as it is stored at `offset`, with `timestamp` (the record's own, or the time
    /// its append stamped when it had none).
    ///
    /// The record's fields are encoded into a buffer of its own, as a log stores them.
    public init(_ record: Record, offset: Offset, timestamp: Int64) {
        var w = ByteWriter(capacity: (record.key?.count ?? 0) + (record.value?.count ?? 0) + 16)
        func field(_ bytes: RecordBytes?) -> Range<Int>? {
            guard let bytes else { return nil }
            let start = w.count
            bytes.withUnsafeBytes { w.write($0) }
            return start..<w.count
        }
        let key = field(record.key)
        let value = field(record.value)
        let headersStart = w.count
        w.writeHeaders(record.headers)
        self.init(offset: offset, timestamp: timestamp, buffer: ReadBuffer(copying: w.bytes), key: key, value: value,
                  headers: headersStart..<w.count, headerCount: record.headers.count)
    }

    /// The key, or `nil`.
    @inlinable
    public var key: RecordBytes? {
        keyCount < 0 ? nil : RecordBytes(buffer, start: Int(keyStart), count: Int(keyCount))
    }

    /// The value, or `nil` for a tombstone.
    @inlinable
    public var value: RecordBytes? {
        valueCount < 0 ? nil : RecordBytes(buffer, start: Int(valueStart), count: Int(valueCount))
    }

    /// Headers, in order.
    public var headers: RecordHeaders {
        RecordHeaders(encoded: buffer, range: Int(headersStart)..<Int(headersEnd), count: Int(headerCount))
    }

    /// The record, to append it elsewhere (its timestamp kept).
    public var record: Record {
        Record(key: key, value: value, headers: headers, timestamp: timestamp)
    }

    /// The same record in a buffer of its own, exactly as large as its fields: keeping the
    /// copy does not keep the read's buffer alive.
    public func copied() -> StoredRecord {
        // Fields follow each other: key, value, headers (the first present one starts the copy).
        let start = Int(keyCount >= 0 ? keyStart : valueCount >= 0 ? valueStart : headersStart)
        let end = Int(headersEnd)
        let own = ReadBuffer(copying: buffer.bytes(start..<end))
        func moved(_ position: UInt32) -> Int { Int(position) - start }
        return StoredRecord(
            offset: offset, timestamp: timestamp, buffer: own,
            key: keyCount < 0 ? nil : moved(keyStart)..<moved(keyStart) + Int(keyCount),
            value: valueCount < 0 ? nil : moved(valueStart)..<moved(valueStart) + Int(valueCount),
            headers: moved(headersStart)..<moved(headersEnd), headerCount: Int(headerCount))
    }
}

extension StoredRecord: Hashable {
    /// Equal when offset, timestamp, key, value and headers are: the bytes compared, wherever they are.
    public static func == (lhs: StoredRecord, rhs: StoredRecord) -> Bool {
        lhs.offset == rhs.offset && lhs.timestamp == rhs.timestamp && lhs.key == rhs.key
            && lhs.value == rhs.value && lhs.headers == rhs.headers
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(offset)
        hasher.combine(timestamp)
        hasher.combine(key)
        hasher.combine(value)
        hasher.combine(headers)
    }
}
