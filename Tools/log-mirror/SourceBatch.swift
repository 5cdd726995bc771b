import EventLog

/// One record batch fetched from the source, as its bytes and the header fields the mirror
/// needs.
struct SourceBatch {
    /// The whole batch, as the source served it.
    var bytes: ArraySlice<UInt8>
    /// The offset of its first record.
    var baseOffset: Int64
    /// The offset after its last record.
    var nextOffset: Int64
    /// How many records it holds.
    var recordCount: Int
    /// Its attributes (codec in bits 0–2, transactional bit 4, control bit 5).
    var attributes: Int16

    var isControl: Bool { attributes & 0x20 != 0 }
    var isTransactional: Bool { attributes & 0x10 != 0 }
    /// The codec, or `nil` for gzip and snappy (which EventLog does not decode).
    var codec: CompressionCodec? { CompressionCodec(rawValue: UInt8(attributes & 0x07)) }

    /// The whole batches in a Fetch response's `records` of one partition; a batch cut at the
    /// end (the response's size limit) is left for the next fetch.
    ///
    /// - Throws: ``MirrorError`` when a batch header is malformed or its CRC does not match.
    static func split(_ records: ArraySlice<UInt8>, topicPartition: TopicPartition) throws -> [SourceBatch] {
        var out: [SourceBatch] = []
        var start = records.startIndex
        while records.endIndex - start >= RecordBatchHeader.size {
            let header: RecordBatchHeader
            do {
                header = try records[start...].withUnsafeBytes { raw throws(LogError) in try RecordBatchHeader(parsing: raw) }
            } catch {
                throw MirrorError("the source sent a malformed batch in \(topicPartition) at byte \(start - records.startIndex): \((error as? LogError)?.message ?? "\(error)")")
            }
            let end = start + header.totalSize
            guard end <= records.endIndex else { break }
            let bytes = records[start..<end]
            guard bytes.withUnsafeBytes({ RecordBatchHeader.checksumMatches($0) }) else {
                throw MirrorError("the source sent a batch whose CRC32C does not match in \(topicPartition) at offset \(header.baseOffset).")
            }
            out.append(SourceBatch(bytes: bytes, baseOffset: header.baseOffset, nextOffset: header.nextOffset,
                                   recordCount: Int(header.recordCount), attributes: header.attributes))
            start = end
        }
        return out
    }

    /// The batch's records (decompressed and copied out), with their offsets and timestamps.
    ///
    /// - Throws: ``MirrorError`` for a gzip or snappy batch or records that do not decode.
    func records(in topicPartition: TopicPartition) throws -> [StoredRecord] {
        do {
            return try bytes.withUnsafeBytes { raw in
                let header = try RecordBatchHeader(parsing: raw)
                return try header.records(in: raw)
            }
        } catch let error as LogError {
            throw MirrorError("the records of the batch at offset \(baseOffset) of \(topicPartition) cannot be decoded: \(error.message)")
        }
    }
}
