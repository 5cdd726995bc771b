extension Partition {
    /// Records read from a partition, and where the next read should start.
    public struct ReadResult: Sendable {
        /// Records in offset order (compaction may leave gaps between offsets).
        public var records: [StoredRecord]
        /// The offset to read from next: one past the last record returned, or past a
        /// range that held no records.
        public var nextOffset: Offset

        /// Makes a result.
        public init(records: [StoredRecord], nextOffset: Offset) {
            self.records = records
            self.nextOffset = nextOffset
        }
    }

    /// Reads records from `offset` on, on the store's I/O threads.
    ///
    /// - Parameters:
    ///   - offset: the first offset wanted, from ``startOffset`` to ``endOffset``.
    ///   - maxRecords: at most this many records.
    ///   - maxBytes: stop after the batch that passes this many bytes of log (at least one
    ///     batch is always read, however large).
    /// - Throws: ``LogError/Code/offsetOutOfRange`` (with `range` = start ..< end) below the
    ///   start or above the end; ``LogError/Code/corruptData`` (with `range` = the unreadable
    ///   offsets) when a stored batch fails its checksum.
    public func read(from offset: Offset, maxRecords: Int, maxBytes: Int = 1 << 20) async throws -> ReadResult {
        try await executor.run { try self.readBlocking(from: offset, maxRecords: maxRecords, maxBytes: maxBytes) }
    }

    /// Reads like ``read(from:maxRecords:maxBytes:)``, with `pread(2)` on the calling thread.
    ///
    /// The one blocking call of the public API, kept for callers that already run on a thread
    /// of their own and would pay a thread hop per read for nothing: a batch exporter on a
    /// `NIOThreadPool` or a `Thread`, `log-dump`-style tools, the benchmarks. Never call it from
    /// an event loop or the cooperative pool (a task): a read of cold data blocks on the disk
    /// (``readIfCached(from:maxRecords:maxBytes:)`` is the read that never does).
    /// Everything else, including every wait, is `async`. See <doc:AppendingAndReading>.
    ///
    /// The records' keys, values and headers are views into the buffers the read filled (a
    /// buffer per `pread(2)` chunk, and one per compressed batch): nothing is copied or
    /// allocated per record. See ``StoredRecord`` for how long they keep those buffers.
    public func readBlocking(from offset: Offset, maxRecords: Int, maxBytes: Int = 1 << 20) throws -> ReadResult {
        try read(from: offset, maxRecords: maxRecords, maxBytes: maxBytes, mode: .blocking)
    }

    /// Reads like ``readBlocking(from:maxRecords:maxBytes:)`` when everything the read needs is
    /// in memory, and returns `nil`, having waited for nothing, when it is not: so that a caller
    /// on an event loop can serve a read of recent records inline, without two thread hops,
    /// and fall back to ``read(from:maxRecords:maxBytes:)`` otherwise.
    ///
    /// Every `pread` of the log is a `preadv2(2)` with `RWF_NOWAIT` (Linux), which reads only
    /// from the page cache: when one cannot read all its bytes so (they are not in memory, a
    /// page is locked, or this kernel or file system cannot read that way; off Linux always),
    /// the read stops and returns `nil`. So does a read that needs a segment's index files
    /// loaded (the first read of an old segment since the store opened) or that meets damaged
    /// data (the blocking read reports it, and reading around damage reads more). A `nil` read
    /// consumed nothing and changed nothing: its records are dropped, and the partition's state
    /// (damage noted, indexes loaded) is as before.
    ///
    /// It takes the partition's and its segments' locks only for a few loads each, as
    /// ``readBlocking(from:maxRecords:maxBytes:)`` does; the writer holds none of them across a
    /// system call, so it never waits for a write or a sync. What it costs on the calling thread
    /// is copying the bytes from the page cache (up to a megabyte), checking their CRC32C,
    /// decompressing, and decoding the records.
    ///
    /// - Returns: what ``readBlocking(from:maxRecords:maxBytes:)`` would return now, or `nil`.
    /// - Throws: what ``readBlocking(from:maxRecords:maxBytes:)`` throws (a closed partition, an
    ///   offset out of range, a limit that is not positive), except for damaged data and failed
    ///   reads, for which it returns `nil`: the blocking read meets them again and reports them.
    public func readIfCached(from offset: Offset, maxRecords: Int, maxBytes: Int = 1 << 20) throws -> ReadResult? {
        do {
            return try read(from: offset, maxRecords: maxRecords, maxBytes: maxBytes, mode: .cachedOnly)
        } catch LogError.Code.wouldBlock {
            return nil
        }
    }

    /// A read into a result, with `mode`'s way of reading the log. Inlined into both callers:
    /// called through, `scan`'s per-record closure was not inlined, and `readBlocking` lost
    /// about 7 % and the topic sequence about 17 % (`eventlog-bench --only read-sequential`,
    /// four interleaved pairs against the tree before).
    @inline(__always)
    private func read(from offset: Offset, maxRecords: Int, maxBytes: Int, mode: FileHandle.ReadMode) throws -> ReadResult {
        var records: [StoredRecord] = []
        // Room for the records the limits allow (a stored record takes at least 16 bytes of
        // log), up to 128 Ki records, so that a large read's array does not grow by copying.
        records.reserveCapacity(max(0, min(maxRecords, maxBytes / 16 + 1, 1 << 17)))
        let next = try scan(from: offset.rawValue, maxRecords: maxRecords, maxBytes: maxBytes, mode: mode) { records.append($0) }
        return ReadResult(records: records, nextOffset: Offset(next))
    }

    /// Calls `body` for each record from `offset`, within the limits; returns the next offset.
    ///
    /// With `mode` `.cachedOnly`, throws ``LogError/wouldBlock`` as soon as a read would wait
    /// for the disk or an index file, or damage is met (before serving what came before it,
    /// and without noting it: the blocking read that follows does both).
    func scan(from offset: Int64, maxRecords: Int, maxBytes: Int, mode: FileHandle.ReadMode = .blocking,
              _ body: (StoredRecord) throws -> Void) throws -> Int64 {
        guard maxRecords > 0 else { throw LogError(.invalidArgument, "maxRecords must be positive, got \(maxRecords).") }
        let (start, end, segments, closed) = state.withLock { ($0.startOffset, $0.visibleEnd, $0.segments, $0.closed) }
        if closed { throw LogError(.closed, "partition \(topicName)/\(index) is closed.") }
        let range = OffsetRange(first: Offset(start), end: Offset(end))
        guard offset >= start else {
            throw LogError(.offsetOutOfRange, "offset \(offset) is below the start \(start) of partition \(topicName)/\(index).", range: range)
        }
        guard offset <= end else {
            throw LogError(.offsetOutOfRange, "offset \(offset) is past the end \(end) of partition \(topicName)/\(index).", range: range)
        }
        if offset == end { return end }
        var first = segmentIndex(containing: offset, in: segments)
        var count = 0
        var bytes = 0
        var next = offset
        while first < segments.count {
            let segment = segments[first]
            let isLast = first == segments.count - 1
            let limit = isLast ? segment.visibleSize : segment.size
            let entry: (baseOffset: Int64, position: Int64, nextPosition: Int64?) =
                next > segment.baseOffset ? try segment.indexRange(forOffset: next, mode: mode) : (segment.baseOffset, 0, nil)
            // Read what the request needs, not a fixed megabyte: a one-record read costs one
            // index interval plus one batch, and when the next index entry bounds the batch
            // holding the offset, exactly the bytes up to it.
            let want = min(maxBytes, maxRecords.multipliedReportingOverflow(by: 512).overflow ? maxBytes : maxRecords * 512)
            var chunk = min(max(want + configuration.indexIntervalBytes, 16 << 10), 1 << 20)
            if let bound = entry.nextPosition, want + configuration.indexIntervalBytes <= 16 << 10,
               bound - entry.position >= Int64(want), bound <= limit {
                chunk = Int(bound - entry.position)
            }
            var scanner = BatchScanner(file: segment.log, start: entry.position, end: limit, chunkSize: chunk, mode: mode)
            // Base offsets are outside the CRC: check that batches follow each other (densely,
            // unless compaction may have left gaps), so a damaged base offset is never served.
            var expectedBase = entry.baseOffset
            let dense = !configuration.mayHaveOffsetGaps
            while true {
                let before = scanner.position
                let peeked: (Int64, RecordBatchHeader)?
                do {
                    peeked = try peek(&scanner, segment: segment, expected: next)
                } catch {
                    // Serve what was read before the damage; the next read reports it.
                    if count > 0 && mode == .blocking { return next }
                    throw error
                }
                guard let (_, header) = peeked else { break }
                if dense ? header.baseOffset != expectedBase : header.baseOffset < expectedBase {
                    if mode == .cachedOnly { throw LogError.wouldBlock }
                    let error = LogError(.corruptData, "\(segment.paths.log) at byte \(before): a batch claims base offset \(header.baseOffset) where \(expectedBase) was expected.")
                    if count > 0 { return next }
                    throw damaged(segment, at: before, expected: next, segments: segments, error: error)
                }
                expectedBase = header.nextOffset
                if header.nextOffset <= next { continue }
                if header.baseOffset >= end { return next }
                scanner.seek(to: before)
                do {
                    _ = try scanner.nextSharedBatch { h, buffer, start in
                        try h.forEachStoredRecord(in: buffer, count: buffer.capacity, at: start) { record in
                            let at = record.offset.rawValue
                            guard at >= next, at < end, count < maxRecords else { return }
                            try body(record)
                            count += 1
                            next = at + 1
                        }
                        bytes += h.totalSize
                        if count < maxRecords { next = max(next, min(h.nextOffset, end)) }
                    }
                } catch let error as LogError where error.code == .corruptData {
                    if mode == .cachedOnly { throw LogError.wouldBlock }
                    if count > 0 { return next }
                    throw damaged(segment, at: before, expected: next, segments: segments, error: error)
                }
                if count >= maxRecords || bytes >= maxBytes || next >= end { return next }
            }
            // A segment can end before the next one starts (compaction): skip the gap.
            first += 1
            if first < segments.count { next = max(next, segments[first].baseOffset) }
        }
        return min(next, end)
    }

    private func peek(_ scanner: inout BatchScanner, segment: Segment, expected: Int64) throws(LogError) -> (Int64, RecordBatchHeader)? {
        let before = scanner.position
        do {
            return try scanner.nextHeader()
        } catch {
            // Not in memory, or damaged: both are for the blocking read.
            if scanner.mode == .cachedOnly { throw LogError.wouldBlock }
            let segments = state.withLock { $0.segments }
            throw damaged(segment, at: before, expected: expected, segments: segments, error: error)
        }
    }

    /// The error for damage at `position`: names the file, the byte and the unreadable offsets,
    /// and remembers the range (logged once, listed by ``damagedRanges``).
    ///
    /// The range runs from `expected` (where the read was) to where reading can resume: the
    /// end of the damaged batch when its header still frames it (the next batch starts right
    /// where its length says, at the offset its header says), else the next offset index entry
    /// past the damage, else the next segment.
    private func damaged(_ segment: Segment, at position: Int64, expected: Int64, segments: [Segment], error: LogError) -> LogError {
        var resume: Int64
        let i = segments.firstIndex(where: { $0 === segment })
        if let i, i + 1 < segments.count {
            resume = segments[i + 1].baseOffset
        } else {
            resume = segment.visibleNextOffset
        }
        if let (offsets, _) = try? segment.indexSnapshot() {
            for k in 0..<offsets.count {
                let e = offsets.entry(k)
                if Int64(e.position) > position {
                    resume = min(resume, segment.baseOffset + Int64(e.relativeOffset))
                    break
                }
            }
        }
        let isLast = i.map { $0 == segments.count - 1 } ?? true
        if let end = endOfDamagedBatch(segment, at: position, expected: expected, isLast: isLast, bound: resume) {
            resume = end
        }
        resume = max(resume, expected + 1)
        let range = OffsetRange(first: Offset(expected), end: Offset(resume))
        let error = LogError(.corruptData, "\(error.message) Offsets \(expected) to \(resume - 1) of partition \(topicName)/\(index) are unreadable; reading resumes at \(resume).",
                             cause: error, range: range)
        noteDamage(error)
        return error
    }

    /// The offset after the damaged batch at `position`, when its header can be trusted: it
    /// holds `expected`, and the batch its length points to starts at the offset after its
    /// last (or the segment ends there at that offset). `nil` when the header is damaged too.
    private func endOfDamagedBatch(_ segment: Segment, at position: Int64, expected: Int64, isLast: Bool, bound: Int64) -> Int64? {
        let limit = isLast ? segment.visibleSize : segment.size
        var scanner = BatchScanner(file: segment.log, start: position, end: limit, chunkSize: 4096)
        guard let (_, header) = try? scanner.nextHeader(),
              header.baseOffset <= expected, expected < header.nextOffset, header.nextOffset <= bound else { return nil }
        let following: Int64
        if scanner.position == limit {
            following = segment.visibleNextOffset
        } else {
            guard let (_, next) = try? scanner.nextHeader() else { return nil }
            following = next.baseOffset
        }
        // Compaction may leave gaps between batches (also after it was turned off); otherwise
        // they follow each other densely.
        let dense = !configuration.mayHaveOffsetGaps
        guard dense ? following == header.nextOffset : following >= header.nextOffset else { return nil }
        return header.nextOffset
    }

    /// The index of the last segment whose base offset is at or below `offset`.
    func segmentIndex(containing offset: Int64, in segments: [Segment]) -> Int {
        var lo = 0, hi = segments.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if segments[mid].baseOffset <= offset { lo = mid + 1 } else { hi = mid }
        }
        return max(0, lo - 1)
    }

    /// The first offset whose record's timestamp is at or after `timestamp` (milliseconds since
    /// the Unix epoch), or ``endOffset`` when none is. Looks the time index up on the store's I/O threads.
    public func offset(forTimestamp timestamp: Int64) async throws -> Offset {
        try await executor.run { try self.offsetBlocking(forTimestamp: timestamp) }
    }

    /// ``offset(forTimestamp:)`` on the calling thread (an I/O thread).
    func offsetBlocking(forTimestamp timestamp: Int64) throws -> Offset {
        let (end, segments) = state.withLock { ($0.visibleEnd, $0.segments) }
        for (i, segment) in segments.enumerated() {
            let isLast = i == segments.count - 1
            if !isLast && segment.maxTimestamp < timestamp && segment.maxTimestamp != .min { continue }
            let limit = isLast ? segment.visibleSize : segment.size
            var scanner = BatchScanner(file: segment.log, start: try segment.position(forTimestamp: timestamp), end: limit)
            var found: Int64?
            while found == nil, let _ = try scanner.nextBatch(verify: true, { _, h, batch in
                guard h.maxTimestamp >= timestamp else { return }
                try h.forEachRecord(in: batch) { view in
                    if found == nil && view.timestamp >= timestamp && view.offset < end { found = view.offset }
                }
            }) {}
            if let found { return Offset(found) }
        }
        return Offset(end)
    }
}
