/// One record inside a batch, as views into the batch's (decompressed) bytes.
///
/// Valid only inside the closure that receives it; copy out what must outlive it.
public struct RecordView {
    /// The record's absolute offset.
    public var offset: Int64
    /// The record's timestamp (ms).
    public var timestamp: Int64
    /// The key bytes, or `nil`.
    public var key: UnsafeRawBufferPointer?
    /// The value bytes, or `nil` for a tombstone.
    public var value: UnsafeRawBufferPointer?
    /// The encoded headers section and its count.
    var headerBytes: UnsafeRawBufferPointer
    /// How many headers the record has.
    public var headerCount: Int

    /// Decodes the headers (allocates).
    public func headers() throws(LogError) -> RecordHeaders {
        var out = RecordHeaders()
        var r = ByteReader(headerBytes)
        for _ in 0..<headerCount {
            guard let nameRange = try r.readBytesRange() else {
                throw LogError(.corruptData, "a record header has a null name.")
            }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: headerBytes[nameRange]), as: UTF8.self)
            let value = try r.readBytesRange().map { r.bytes($0) } ?? []
            out.append(name: name, value: value)
        }
        return out
    }

    /// Copies the record out.
    public func stored() throws(LogError) -> StoredRecord {
        StoredRecord(
            Record(key: key.map { RecordBytes(Array($0)) }, value: value.map { RecordBytes(Array($0)) }, headers: try headers()),
            offset: Offset(offset), timestamp: timestamp)
    }
}

extension RecordBatchHeader {
    /// Calls `body` for each record of `batch` (the whole batch's bytes), decompressing as needed.
    ///
    /// Checks framing (lengths, varints, record count, offset deltas) but not the CRC: call
    /// ``checksumMatches(_:)`` first where the bytes come from disk.
    public func forEachRecord(
        in batch: UnsafeRawBufferPointer,
        _ body: (borrowing RecordView) throws -> Void
    ) throws {
        guard batch.count >= totalSize else {
            throw LogError(.corruptData, "a batch of \(totalSize) bytes is cut at \(batch.count).")
        }
        let section = UnsafeRawBufferPointer(rebasing: batch[Self.size..<totalSize])
        guard let codec else {
            throw LogError(.unsupportedCodec, "a batch uses compression codec \(codecID) (gzip=1, snappy=2), which EventLog does not support.")
        }
        if codec == .none {
            try decodeRecords(section, body)
        } else {
            let plain = try Compression.decompress(section, codec: codec)
            try plain.withUnsafeBytes { try decodeRecords($0, body) }
        }
    }

    /// Decodes every record into values.
    public func records(in batch: UnsafeRawBufferPointer) throws -> [StoredRecord] {
        var out: [StoredRecord] = []
        // A record takes at least 7 bytes: never trust a count the bytes cannot hold.
        out.reserveCapacity(min(Int(recordCount), batch.count / 7))
        try forEachRecord(in: batch) { out.append(try $0.stored()) }
        return out
    }

    private func decodeRecords(_ bytes: UnsafeRawBufferPointer, _ body: (borrowing RecordView) throws -> Void) throws {
        var r = ByteReader(bytes)
        var previousDelta: Int64 = -1
        for _ in 0..<Int(recordCount) {
            let length = try r.readVarint()
            guard length > 0, length <= Int64(r.remaining) else {
                throw LogError(.corruptData, "a record declares length \(length) with \(r.remaining) bytes left in its batch.")
            }
            let end = r.position + Int(length)
            var rr = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[..<end]), position: r.position)
            _ = try rr.readByte()
            let timestampDelta = try rr.readVarint()
            let offsetDelta = try rr.readVarint()
            guard offsetDelta > previousDelta, offsetDelta <= Int64(lastOffsetDelta) else {
                throw LogError(.corruptData, "a record's offset delta \(offsetDelta) is out of order or past the batch's last delta \(lastOffsetDelta).")
            }
            previousDelta = offsetDelta
            let (timestamp, overflow) = baseTimestamp.addingReportingOverflow(timestampDelta)
            guard !overflow else {
                throw LogError(.corruptData, "a record's timestamp delta \(timestampDelta) overflows the batch's base timestamp \(baseTimestamp).")
            }
            let key = try rr.readBytesRange()
            let value = try rr.readBytesRange()
            let headerCount = try rr.readVarint()
            guard headerCount >= 0, headerCount <= Int64(rr.remaining) else {
                throw LogError(.corruptData, "a record declares \(headerCount) headers.")
            }
            let headerStart = rr.position
            // Walk the headers once to check their framing.
            for _ in 0..<headerCount {
                guard try rr.readBytesRange() != nil else { throw LogError(.corruptData, "a record header has a null name.") }
                _ = try rr.readBytesRange()
            }
            guard rr.position == end else {
                throw LogError(.corruptData, "a record's fields end at \(rr.position - r.position) of its \(length) bytes.")
            }
            let view = RecordView(
                offset: baseOffset + offsetDelta,
                timestamp: timestamp,
                key: key.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) },
                value: value.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) },
                headerBytes: UnsafeRawBufferPointer(rebasing: bytes[headerStart..<end]),
                headerCount: Int(headerCount))
            try body(view)
            r.position = end
        }
        guard r.remaining == 0 else {
            throw LogError(.corruptData, "a batch has \(r.remaining) bytes after its \(recordCount) records.")
        }
    }
}
