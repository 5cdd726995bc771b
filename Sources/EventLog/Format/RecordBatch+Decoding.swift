/// One record inside a batch, as views into the batch's (decompressed) bytes.
///
/// Valid only inside the closure that receives it; copy out what must outlive it.
package struct RecordView {
    /// The record's absolute offset.
    package var offset: Int64
    /// The record's timestamp (ms).
    package var timestamp: Int64
    /// The key bytes, or `nil`.
    package var key: UnsafeRawBufferPointer?
    /// The value bytes, or `nil` for a tombstone.
    package var value: UnsafeRawBufferPointer?
    /// The encoded headers section and its count.
    var headerBytes: UnsafeRawBufferPointer
    /// The record's key, value and headers fields, from the key's length to the record's end.
    var fields: UnsafeRawBufferPointer
    /// How many headers the record has.
    package var headerCount: Int

    /// Decodes the headers (allocates).
    package func headers() throws(LogError) -> RecordHeaders {
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

    /// Copies the record out, into one buffer of its own.
    package func stored() -> StoredRecord {
        StoredRecord(self, in: ReadBuffer(copying: fields), base: fields.baseAddress!)
    }
}

extension StoredRecord {
    /// The record `view` describes, whose bytes are at the same places in `buffer` as they are
    /// from `base` on: the view's own memory, or a copy of it.
    init(_ view: borrowing RecordView, in buffer: ReadBuffer, base: UnsafeRawPointer) {
        func range(_ field: UnsafeRawBufferPointer) -> Range<Int> {
            let start = (field.baseAddress ?? base) - base
            return start..<start + field.count
        }
        self.init(offset: Offset(view.offset), timestamp: view.timestamp, buffer: buffer,
                  key: view.key.map(range), value: view.value.map(range),
                  headers: range(view.headerBytes), headerCount: view.headerCount)
    }
}

extension RecordBatchHeader {
    /// Calls `body` for each record of `batch` (the whole batch's bytes), decompressing as needed.
    ///
    /// Checks framing (lengths, varints, record count, offset deltas) but not the CRC: call
    /// ``checksumMatches(_:)`` first where the bytes come from disk.
    package func forEachRecord(
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

    /// Decodes every record of `batch` (the whole batch's bytes), as records whose fields are
    /// views into `batch` (or, for a compressed batch, into its decompressed records).
    package func records(in batch: [UInt8]) throws -> [StoredRecord] {
        try batch.withUnsafeBytes { try records(in: $0) }
    }

    /// Decodes every record of a batch in memory the caller owns, copying the batch once.
    package func records(in batch: UnsafeRawBufferPointer) throws -> [StoredRecord] {
        var out: [StoredRecord] = []
        // A record takes at least 7 bytes: never trust a count the bytes cannot hold.
        out.reserveCapacity(min(Int(recordCount), batch.count / 7))
        try forEachStoredRecord(in: ReadBuffer(copying: batch), count: batch.count, at: 0) { out.append($0) }
        return out
    }

    /// Calls `body` for each record of the batch at `start` in `buffer`, as a record whose
    /// fields are views into `buffer`: nothing is copied or allocated per record. A compressed
    /// batch is decompressed once, into one buffer its records then point into.
    ///
    /// Checks framing as ``forEachRecord(in:_:)`` does, not the CRC.
    func forEachStoredRecord(in buffer: ReadBuffer, count: Int, at start: Int, _ body: (StoredRecord) throws -> Void) throws {
        guard start >= 0, count - start >= totalSize, count <= buffer.capacity else {
            throw LogError(.corruptData, "a batch of \(totalSize) bytes is cut at \(count - start).")
        }
        guard let codec else {
            throw LogError(.unsupportedCodec, "a batch uses compression codec \(codecID) (gzip=1, snappy=2), which EventLog does not support.")
        }
        let records: ReadBuffer
        let section: Range<Int>
        if codec == .none {
            records = buffer
            section = start + Self.size..<start + totalSize
        } else {
            let plain = try Compression.decompress(buffer.bytes(start + Self.size..<start + totalSize), codec: codec)
            records = ReadBuffer(copying: plain)
            section = 0..<plain.count
        }
        // No bytes at all: no record can be decoded (this throws unless the count is 0).
        guard section.count > 0 else { return try decodeRecords(UnsafeRawBufferPointer(start: nil, count: 0)) { _ in } }
        let base = UnsafeRawPointer(records.base)
        try withExtendedLifetime(records) {
            try decodeRecords(records.bytes(section)) { view in
                try body(StoredRecord(view, in: records, base: base))
            }
        }
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
            let fieldsStart = rr.position
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
                fields: UnsafeRawBufferPointer(rebasing: bytes[fieldsStart..<end]),
                headerCount: Int(headerCount))
            try body(view)
            r.position = end
        }
        guard r.remaining == 0 else {
            throw LogError(.corruptData, "a batch has \(r.remaining) bytes after its \(recordCount) records.")
        }
    }
}
