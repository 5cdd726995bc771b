extension Partition {
    /// Whole batches as they are stored (Kafka's Fetch serves these bytes without decoding them).
    public struct StoredBatches: Sendable {
        /// The batches, one after another, each with its CRC checked.
        public var bytes: [UInt8]
        /// The offset after the last record of the last batch (the offset the next read starts
        /// from); the requested offset when no batch was read.
        public var nextOffset: Offset
        /// The partition's start offset when read.
        public var startOffset: Offset
        /// The partition's end offset (its high watermark) when read.
        public var endOffset: Offset
    }

    /// Reads whole stored batches, starting with the one that holds `offset`, on the store's
    /// I/O threads.
    ///
    /// At least one whole batch is returned when one holds `offset` or a later offset, however
    /// large (Kafka's KIP-74: a consumer must be able to make progress); after it, batches are
    /// added while the total stays within `maxBytes`. Only visible (published) batches are
    /// read. The first batch may start before `offset`: a Kafka client skips the records below
    /// the offset it asked for.
    ///
    /// - Throws: ``LogError/Code/offsetOutOfRange`` (with `range`) below the start or past the
    ///   end; ``LogError/Code/corruptData`` when a stored batch fails its checksum (the batches
    ///   before it are returned first).
    public func readStoredBatches(from offset: Offset, maxBytes: Int) async throws -> StoredBatches {
        try await executor.run { try self.readStoredBatchesBlocking(from: offset, maxBytes: maxBytes) }
    }

    /// ``readStoredBatches(from:maxBytes:)`` with `pread(2)` on the calling thread.
    public func readStoredBatchesBlocking(from offset: Offset, maxBytes: Int) throws -> StoredBatches {
        let (start, end, segments, closed) = state.withLock { ($0.startOffset, $0.visibleEnd, $0.segments, $0.closed) }
        if closed { throw LogError(.closed, "partition \(topicName)/\(index) is closed.") }
        let wanted = offset.rawValue
        let range = OffsetRange(first: Offset(start), end: Offset(end))
        guard wanted >= start else {
            throw LogError(.offsetOutOfRange, "offset \(wanted) is below the start \(start) of partition \(topicName)/\(index).", range: range)
        }
        guard wanted <= end else {
            throw LogError(.offsetOutOfRange, "offset \(wanted) is past the end \(end) of partition \(topicName)/\(index).", range: range)
        }
        var result = StoredBatches(bytes: [], nextOffset: offset, startOffset: Offset(start), endOffset: Offset(end))
        if wanted == end { return result }
        var i = segmentIndex(containing: wanted, in: segments)
        var next = wanted
        while i < segments.count {
            let segment = segments[i]
            let limit = i == segments.count - 1 ? segment.visibleSize : segment.size
            let position = next > segment.baseOffset ? try segment.indexRange(forOffset: next).position : 0
            // Chunks of at most 1 MiB come from the read buffer pool, already faulted in; a
            // larger chunk would be a fresh mapping per read (page faults and zeroing were a
            // third of a Kafka consumer's fetch CPU with 1 MiB + index-interval chunks).
            var scanner = BatchScanner(file: segment.log, start: position, end: limit,
                                       chunkSize: min(max(maxBytes + configuration.indexIntervalBytes, 64 << 10), 1 << 20))
            if result.bytes.isEmpty {
                // One allocation for the answer, not a doubling per batch appended.
                result.bytes.reserveCapacity(Int(min(Int64(maxBytes), limit - position)) + 1)
            }
            while true {
                let full: Bool?
                do {
                    full = try scanner.nextBatch(verify: true) { _, header, batch -> Bool in
                        // Batches wholly before the offset (the index entry is at or before it).
                        if header.nextOffset <= next { return false }
                        if header.baseOffset >= end { return true }
                        guard result.bytes.isEmpty || result.bytes.count + batch.count <= maxBytes else { return true }
                        result.bytes.append(contentsOf: batch)
                        next = header.nextOffset
                        result.nextOffset = Offset(min(next, end))
                        return result.bytes.count >= maxBytes
                    }
                } catch {
                    // Serve what was read before the damage; the next read reports it.
                    if !result.bytes.isEmpty { return result }
                    throw error
                }
                guard let full else { break }
                if full { return result }
            }
            i += 1
            // A segment can end before the next one starts (compaction): skip the gap.
            if i < segments.count { next = max(next, segments[i].baseOffset) }
        }
        return result
    }
}
