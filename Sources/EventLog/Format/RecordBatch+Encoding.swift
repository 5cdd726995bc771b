/// A batch encoded by the appending task, ready for the writer to stamp its base offset.
///
/// Encoding and compression happen on the caller's task, so that several appenders
/// compress in parallel and the single writer per partition only copies bytes.
public struct EncodedBatch: Sendable {
    /// The whole batch, base offset 0, CRC filled in (the base offset is outside the CRC).
    public var bytes: [UInt8]
    /// How many records it holds.
    public var recordCount: Int
    /// The first record's timestamp.
    public var baseTimestamp: Int64
    /// The largest timestamp in the batch.
    public var maxTimestamp: Int64
    /// The idempotent producer's stamp, if any.
    public var producer: ProducerStamp?

    /// Encodes records as one Kafka v2 batch.
    ///
    /// - Parameters:
    ///   - records: at least one record.
    ///   - codec: the compression for the records section.
    ///   - producer: the idempotent producer's stamp, or `nil` (id, epoch and sequence -1).
    ///   - now: the timestamp, in ms, given to records that have none.
    /// - Throws: ``LogError/Code/invalidArgument`` for an empty batch or over `Int32.max` records.
    public init(records: [Record], codec: CompressionCodec, producer: ProducerStamp? = nil, now: Int64) throws(LogError) {
        guard !records.isEmpty else { throw LogError(.invalidArgument, "a batch needs at least one record.") }
        guard records.count < Int(Int32.max) else { throw LogError(.invalidArgument, "a batch holds at most \(Int32.max) records.") }
        let baseTimestamp = records[0].timestamp ?? now
        var maxTimestamp = baseTimestamp
        // Pass 1: exact sizes, so the records are written once, with no reallocation.
        var bodySize = 0
        // Through the buffer, not `enumerated()`: iterating copies each record (a retain and
        // release of every field's storage per record), while `buffer[i]` is read in place.
        records.withUnsafeBufferPointer { buffer in
            for i in buffer.indices {
                let ts = buffer[i].timestamp ?? now
                if ts > maxTimestamp { maxTimestamp = ts }
                let length = Self.recordLength(buffer[i], offsetDelta: Int64(i), timestampDelta: ts - baseTimestamp)
                bodySize += varintSize(Int64(length)) + length
            }
        }
        let headerSize = RecordBatchHeader.size
        var bytes: [UInt8]
        if codec == .none {
            // Uncompressed: the records go straight after the header, in the batch's own buffer.
            bytes = [UInt8](unsafeUninitializedCapacity: headerSize + bodySize) { buffer, initialized in
                var cursor = UnsafeMutableRawPointer(buffer.baseAddress!) + headerSize
                Self.writeRecords(records, baseTimestamp: baseTimestamp, now: now, to: &cursor)
                initialized = headerSize + bodySize
            }
        } else {
            let body = [UInt8](unsafeUninitializedCapacity: bodySize) { buffer, initialized in
                var cursor = UnsafeMutableRawPointer(buffer.baseAddress!)
                Self.writeRecords(records, baseTimestamp: baseTimestamp, now: now, to: &cursor)
                initialized = bodySize
            }
            var out = [UInt8](repeating: 0, count: headerSize)
            out.reserveCapacity(headerSize + bodySize / 2 + 64)
            try withBytes(body) { raw throws(LogError) in try Compression.compress(raw, codec: codec, into: &out) }
            bytes = out
        }
        bytes.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            func put<T: FixedWidthInteger>(_ v: T, _ at: Int) { p.storeBytes(of: v.bigEndian, toByteOffset: at, as: T.self) }
            put(Int64(0), 0)                                  // baseOffset, stamped by the writer
            put(Int32(raw.count - RecordBatchHeader.logOverhead), 8)
            put(Int32(0), 12)                                 // partitionLeaderEpoch
            put(UInt8(bitPattern: RecordBatchHeader.magic), 16)
            put(Int16(codec.rawValue), 21)                    // attributes: codec, CreateTime
            put(Int32(records.count - 1), 23)
            put(baseTimestamp, 27)
            put(maxTimestamp, 35)
            put(producer?.producerID ?? -1, 43)
            put(producer?.epoch ?? -1, 51)
            put(producer?.baseSequence ?? -1, 53)
            put(Int32(records.count), 57)
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[RecordBatchHeader.crcStart...]))
            put(crc, RecordBatchHeader.crcOffset)
        }
        self.bytes = bytes
        self.recordCount = records.count
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producer = producer
    }

    /// The bytes of one record after its length varint.
    static func recordLength(_ record: Record, offsetDelta: Int64, timestampDelta: Int64) -> Int {
        var length = 1 + varintSize(timestampDelta) + varintSize(offsetDelta)
        if let key = record.key { length += varintSize(Int64(key.count)) + key.count } else { length += 1 }
        if let value = record.value { length += varintSize(Int64(value.count)) + value.count } else { length += 1 }
        length += varintSize(Int64(record.headers.count))
        for h in record.headers {
            let n = h.name.utf8.count
            length += varintSize(Int64(n)) + n + varintSize(Int64(h.value.count)) + h.value.count
        }
        return length
    }

    /// Writes records (length-prefixed, Kafka's layout) at `cursor`, which must have room.
    static func writeRecords(_ records: [Record], baseTimestamp: Int64, now: Int64, to cursor: inout UnsafeMutableRawPointer) {
        // Through the buffer: `buffer[i]` is read in place (an array's element or a loop
        // variable would be a copy of the record, a retain and release of each field's storage).
        records.withUnsafeBufferPointer { buffer in
            for i in buffer.indices { writeRecord(buffer[i], index: i, baseTimestamp: baseTimestamp, now: now, to: &cursor) }
        }
    }

    /// Writes one record (length-prefixed) at `cursor`.
    private static func writeRecord(_ record: borrowing Record, index i: Int, baseTimestamp: Int64, now: Int64,
                                    to cursor: inout UnsafeMutableRawPointer) {
        do {
            let ts = record.timestamp ?? now
            let offsetDelta = Int64(i), timestampDelta = ts - baseTimestamp
            putVarint(Int64(recordLength(record, offsetDelta: offsetDelta, timestampDelta: timestampDelta)), &cursor)
            cursor.storeBytes(of: 0, as: UInt8.self)
            cursor += 1
            putVarint(timestampDelta, &cursor)
            putVarint(offsetDelta, &cursor)
            putField(record.key, &cursor)
            putField(record.value, &cursor)
            putVarint(Int64(record.headers.count), &cursor)
            for h in record.headers {
                var name = h.name
                name.withUTF8 { utf8 in
                    putVarint(Int64(utf8.count), &cursor)
                    if let base = utf8.baseAddress, utf8.count > 0 {
                        cursor.copyMemory(from: base, byteCount: utf8.count)
                        cursor += utf8.count
                    }
                }
                putField(h.value, &cursor)
            }
        }
    }

    @inline(__always)
    static func putVarint(_ value: Int64, _ cursor: inout UnsafeMutableRawPointer) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while v >= 0x80 {
            cursor.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, as: UInt8.self)
            cursor += 1
            v >>= 7
        }
        cursor.storeBytes(of: UInt8(v), as: UInt8.self)
        cursor += 1
    }

    /// Writes a length-prefixed field: the one copy of a key's, value's or header's bytes on
    /// the append path (Docs/ARCHITECTURE.md, "An append, from HTTP body to pwrite").
    @inline(__always)
    static func putField(_ bytes: RecordBytes?, _ cursor: inout UnsafeMutableRawPointer) {
        guard let bytes else {
            putVarint(-1, &cursor)
            return
        }
        putVarint(Int64(bytes.count), &cursor)
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress, raw.count > 0 {
                cursor.copyMemory(from: base, byteCount: raw.count)
            }
        }
        cursor += bytes.count
    }

    /// Re-encodes the records a compaction keeps from one batch, preserving its base offset,
    /// last offset delta, producer fields and each record's offset delta, so that offsets and
    /// producer state survive cleaning (as Kafka's cleaner does).
    init(retaining records: [StoredRecord], from source: RecordBatchHeader, codec: CompressionCodec) throws(LogError) {
        precondition(!records.isEmpty, "a cleaned batch keeps at least one record")
        let baseTimestamp = records[0].timestamp
        var maxTimestamp = baseTimestamp
        var body = ByteWriter(capacity: 64 * records.count)
        for r in records {
            maxTimestamp = max(maxTimestamp, r.timestamp)
            Self.encodeRecord(r.record,
                              offsetDelta: r.offset.rawValue - source.baseOffset,
                              timestampDelta: r.timestamp - baseTimestamp, into: &body)
        }
        var w = ByteWriter(capacity: RecordBatchHeader.size + body.count)
        w.write(bigEndian: source.baseOffset)
        w.write(bigEndian: Int32(0))
        w.write(bigEndian: source.partitionLeaderEpoch)
        w.write(UInt8(bitPattern: RecordBatchHeader.magic))
        w.write(bigEndian: UInt32(0))
        w.write(bigEndian: Int16(codec.rawValue) | (source.attributes & ~0x7))
        w.write(bigEndian: source.lastOffsetDelta)
        w.write(bigEndian: baseTimestamp)
        w.write(bigEndian: maxTimestamp)
        w.write(bigEndian: source.producerID)
        w.write(bigEndian: source.producerEpoch)
        w.write(bigEndian: source.baseSequence)
        w.write(bigEndian: Int32(records.count))
        if codec == .none {
            w.write(body.bytes)
        } else {
            var out = w.bytes
            try withBytes(body.bytes) { raw throws(LogError) in try Compression.compress(raw, codec: codec, into: &out) }
            w.bytes = out
        }
        w.set(bigEndian: Int32(w.count - RecordBatchHeader.logOverhead), at: 8)
        let crc = w.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[RecordBatchHeader.crcStart...])) }
        w.set(bigEndian: crc, at: RecordBatchHeader.crcOffset)
        self.bytes = w.bytes
        self.recordCount = records.count
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producer = nil
    }

    static func encodeRecord(_ record: Record, offsetDelta: Int64, timestampDelta: Int64, into w: inout ByteWriter) {
        // length is a varint of everything after it; compute it first to write it once.
        w.writeVarint(Int64(recordLength(record, offsetDelta: offsetDelta, timestampDelta: timestampDelta)))
        w.write(UInt8(0)) // record attributes: unused
        w.writeVarint(timestampDelta)
        w.writeVarint(offsetDelta)
        w.writeField(record.key)
        w.writeField(record.value)
        w.writeVarint(Int64(record.headers.count))
        w.writeHeaders(record.headers)
    }
}
