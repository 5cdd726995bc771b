extension EncodedBatch {
    /// A batch a client encoded, taken as it is (a Kafka Produce request's record batch), so
    /// that it is stored byte for byte apart from its base offset, which the writer stamps.
    ///
    /// It is checked as the read path checks a stored batch, and more: one whole batch (its
    /// length matches the bytes), magic 2, its CRC32C, a codec this build reads (none, lz4,
    /// zstd), not a control or transactional batch, and every record decodes (decompressing
    /// when compressed) with consecutive offset deltas and the declared count. A batch that
    /// passes can be read back by every reader of the store: the HTTP streams, compaction,
    /// `log-dump`. The producer stamp comes from the header (producer id ≥ 0), so idempotent
    /// retries are deduplicated as for ``init(records:codec:producer:now:)``.
    ///
    /// - Parameter bytes: the whole batch. Its base offset and partition leader epoch are kept
    ///   as given (both lie outside the CRC; the writer overwrites the base offset).
    /// - Throws: ``LogError/Code/corruptData`` when a check fails, ``LogError/Code/unsupportedCodec``
    ///   for gzip and snappy, ``LogError/Code/invalidArgument`` for a control or transactional
    ///   batch.
    public init(received bytes: [UInt8]) throws(LogError) {
        let header = try withBytes(bytes) { raw throws(LogError) -> RecordBatchHeader in
            let header = try RecordBatchHeader(parsing: raw)
            guard header.totalSize == raw.count else {
                throw LogError(.corruptData, "a received batch declares \(header.totalSize) bytes but \(raw.count) were given.")
            }
            guard RecordBatchHeader.checksumMatches(raw) else {
                throw LogError(.corruptData, "the CRC32C of a received batch does not match its bytes.")
            }
            guard !header.isControl, header.attributes & 0x10 == 0 else {
                throw LogError(.invalidArgument, "a received batch is a control or transactional batch.")
            }
            guard header.recordCount >= 1, Int64(header.lastOffsetDelta) == Int64(header.recordCount) - 1 else {
                throw LogError(.corruptData, "a received batch declares \(header.recordCount) records with last offset delta \(header.lastOffsetDelta).")
            }
            var expected = header.baseOffset
            do {
                try header.forEachRecord(in: raw) { view in
                    guard view.offset == expected else {
                        throw LogError(.corruptData, "a received batch has a record at offset delta \(view.offset - header.baseOffset) where \(expected - header.baseOffset) was expected.")
                    }
                    expected += 1
                }
            } catch let error as LogError {
                throw error
            } catch {
                throw LogError(.corruptData, "a received batch cannot be decoded: \(error)")
            }
            guard expected - header.baseOffset == Int64(header.recordCount) else {
                throw LogError(.corruptData, "a received batch holds \(expected - header.baseOffset) records but declares \(header.recordCount).")
            }
            return header
        }
        self.bytes = bytes
        self.recordCount = Int(header.recordCount)
        self.baseTimestamp = header.baseTimestamp
        self.maxTimestamp = header.maxTimestamp
        self.producer = header.producerID >= 0
            ? ProducerStamp(producerID: header.producerID, epoch: header.producerEpoch, baseSequence: header.baseSequence)
            : nil
    }
}
