#if canImport(Glibc)
import Glibc
#endif

extension Partition {
    /// Appends records as one batch, atomically: all get consecutive offsets, or none is written.
    ///
    /// The batch is encoded and compressed on the calling task; the partition's writer then
    /// writes it with other waiting batches in one `pwrite(2)`. Returns after the batch is on
    /// stable storage (`fdatasync(2)`) when the topic's durability is `.fsync` (shared with
    /// every append waiting at that moment), or once written for `.interval` and `.none`.
    ///
    /// - Parameters:
    ///   - records: one or more records.
    ///   - producer: an idempotent producer's stamp; a batch already accepted from the same
    ///     producer, epoch and sequence returns its original offsets and writes nothing.
    /// - Returns: the offsets the records received.
    /// - Throws: ``LogError`` with ``LogError/Code/diskFull`` (nothing became visible, retry once
    ///   space is back), ``LogError/Code/recordTooLarge``, ``LogError/Code/closed``,
    ///   ``LogError/Code/ioError``, or a producer error.
    @discardableResult
    public func append(_ records: [Record], producer: ProducerStamp? = nil) async throws -> OffsetRange {
        let batch = try EncodedBatch(records: records, codec: configuration.compression, producer: producer, now: clock.now())
        return try await append(encoded: batch)
    }

    /// Appends one record.
    @discardableResult
    public func append(_ record: Record) async throws -> Offset {
        try await append([record]).first
    }

    /// Appends a batch encoded beforehand (by ``EncodedBatch/init(records:codec:producer:now:)``).
    ///
    /// With `none` or `interval` durability and no writer running, the calling task writes the
    /// batch itself (a `pwrite(2)` into the page cache, as Kafka's request threads do) and
    /// returns without a thread hop; otherwise the batch joins the queue of the running writer.
    public func append(encoded batch: EncodedBatch) async throws -> OffsetRange {
        try checkBatchSize(batch)
        if configuration.durability != .fsync, let result = try appendInline(batch) {
            return result
        }
        return try await withCheckedThrowingContinuation { continuation in enqueue(batch, continuation: continuation) }
    }

    private func checkBatchSize(_ batch: EncodedBatch) throws(LogError) {
        guard batch.bytes.count <= configuration.maxBatchBytes else {
            throw LogError(.recordTooLarge, "a batch of \(batch.bytes.count) bytes exceeds the topic's limit of \(configuration.maxBatchBytes) bytes.")
        }
    }

    /// Queues `batch` for the writer and returns at once; `continuation` is resumed with its
    /// offsets once it is written (and synced, under `fsync`), or with the error.
    ///
    /// Batches take their places in the log in the order of their `enqueue` calls: a caller
    /// that must order an append after a check (the group coordinator's fencing) makes both
    /// in one synchronous step.
    func enqueue(_ batch: EncodedBatch, continuation: CheckedContinuation<OffsetRange, any Error>) {
        do { try checkBatchSize(batch) } catch {
            continuation.resume(throwing: error)
            return
        }
        let (schedule, rejected) = state.withLock { s -> (Bool, Bool) in
            if s.closed { return (false, true) }
            s.pending.append(PendingAppend(batch: batch, continuation: continuation))
            if s.writerScheduled { return (false, false) }
            s.writerScheduled = true
            return (true, false)
        }
        if rejected {
            continuation.resume(throwing: LogError(.closed, "partition \(topicName)/\(index) is closed."))
        } else if schedule, !executor.submit({ self.drain() }) {
            // The pool is gone (the store closed meanwhile): write on this thread instead.
            drain()
        }
    }

    // MARK: The writer

    /// The longest the writer waits for released appenders to come back before a sync.
    static let maxLingerNanoseconds: UInt64 = 250_000

    private struct Completion {
        /// `nil` for the batch of an inline writer, which takes its result itself.
        var continuation: CheckedContinuation<OffsetRange, any Error>?
        var result: Result<OffsetRange, any Error>
    }

    /// The most queued groups an inline writer writes for others before it hands the queue
    /// to the I/O threads, so that its own append returns in bounded time.
    static let maxInlineRounds = 8

    /// Writes `batch` on the calling thread when the writer is idle and the batch fits in the
    /// active segment (a roll syncs, which is the I/O threads' work); `nil` when it cannot.
    ///
    /// The caller holds the writer role while it writes: appends arriving meanwhile queue
    /// as usual, and the caller writes them too (a bounded number of groups) before it
    /// lets the role go or hands it to the I/O threads.
    private func appendInline(_ batch: EncodedBatch) throws -> OffsetRange? {
        let active = state.withLock { s -> Segment? in
            guard !s.closed, !s.writerScheduled, s.needsRepair == nil else { return nil }
            s.writerScheduled = true
            return s.segments.last!
        }
        guard let active else { return nil }
        if mustRoll(active, forNextBatchOf: batch.bytes.count) {
            releaseWriter()
            return nil
        }
        var own: Result<OffsetRange, any Error>?
        var group = [PendingAppend(batch: batch, continuation: nil)]
        for _ in 0..<Self.maxInlineRounds {
            for c in writeAndPublish(group) {
                if let continuation = c.continuation { continuation.resume(with: c.result) } else { own = c.result }
            }
            let (taken, segment) = state.withLock { s in (s.takePending(), s.segments.last!) }
            group = taken
            // A group that would roll the segment is left to the I/O threads, like a batch.
            if group.isEmpty || mustRoll(segment, forNextBatchOf: group.reduce(0) { $0 + $1.batch.bytes.count }) { break }
        }
        if !group.isEmpty {
            // Still busy, or a roll is due: the I/O threads take over, starting with what was just taken.
            state.withLock { $0.pending.insert(contentsOf: group, at: 0) }
        }
        releaseWriter()
        return try own!.get()
    }

    /// Gives up the writer role: to the I/O threads when appends are queued, else to nobody
    /// (resuming a waiting close).
    private func releaseWriter() {
        let (schedule, idle) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
            s.pending.isEmpty ? (false, s.releaseWriterRole()) : (true, [])
        }
        for c in idle { c.resume() }
        if schedule, !executor.submit({ self.drain() }) { drain() }
    }

    /// Writes a group and publishes it without syncing (`none` and `interval` durability).
    private func writeAndPublish(_ group: [PendingAppend]) -> [Completion] {
        var completions: [Completion] = []
        completions.reserveCapacity(group.count)
        var written: [(PendingAppend, OffsetRange)] = []
        write(group, completions: &completions, written: &written)
        publish(written, completions: &completions)
        return completions
    }

    /// The writer job: writes every pending append, syncs once per group, publishes, repeats
    /// until nothing is pending. Runs on an I/O thread; at most one per partition at a time.
    func drain() {
        while true {
            let (group, idle) = state.withLock { s -> ([PendingAppend], [CheckedContinuation<Void, Never>]) in
                let g = s.takePending()
                return g.isEmpty ? (g, s.releaseWriterRole()) : (g, [])
            }
            if group.isEmpty {
                for c in idle { c.resume() }
                return
            }
            defer { lingerForNextAppend() }
            var completions: [Completion] = []
            completions.reserveCapacity(group.count)
            var written: [(PendingAppend, OffsetRange)] = []
            write(group, completions: &completions, written: &written)

            if configuration.durability == .fsync && !written.isEmpty {
                // Group commit: appends that arrived while we wrote join this sync. When the
                // appenders the last sync released have not all come back yet (the group is well
                // below the recent average), linger a bounded moment for them: without it, groups
                // alternate between the few that were quick and the many that were not.
                let target = scratch.recentGroupSize * 0.9
                let lingerUntil = FileSystem.monotonicNanoseconds() + Self.maxLingerNanoseconds
                var rounds = 0
                while rounds < 64 {
                    let more = state.withLock { $0.takePending() }
                    if !more.isEmpty {
                        write(more, completions: &completions, written: &written)
                        rounds += 1
                        continue
                    }
                    if Double(written.count) >= target || FileSystem.monotonicNanoseconds() >= lingerUntil { break }
                    sched_yield()
                }
                scratch.recentGroupSize = scratch.recentGroupSize * 0.75 + Double(written.count) * 0.25
                syncAndPublish(written, completions: &completions)
            } else {
                publish(written, completions: &completions)
            }
            for c in completions { c.continuation?.resume(with: c.result) }
        }
    }

    /// Writes a group: idempotence checks, offsets, roll, one `pwrite` per segment touched.
    private func write(_ group: [PendingAppend], completions: inout [Completion], written: inout [(PendingAppend, OffsetRange)]) {
        if let repair = state.withLock({ $0.needsRepair }) {
            if let seg = state.withLock({ $0.segments.last }), seg.baseOffset == repair.segmentBase {
                do {
                    try seg.log.truncate(to: repair.size)
                    state.withLock { $0.needsRepair = nil }
                } catch {
                    for p in group { completions.append(Completion(continuation: p.continuation, result: .failure(error))) }
                    return
                }
            }
        }
        // Idempotence and offsets, decided under the lock: offsets are provisional until written.
        var accepted: [PendingAppend] = []
        var ranges: [OffsetRange] = []
        accepted.reserveCapacity(group.count)
        state.withLock { s in
            var next = s.nextOffset
            for p in group {
                if let stamp = p.batch.producer {
                    do {
                        switch try s.producers.check(stamp, count: p.batch.recordCount) {
                        case .duplicate(let range):
                            completions.append(Completion(continuation: p.continuation, result: .success(range)))
                            continue
                        case .new:
                            s.producers.record(stamp, count: p.batch.recordCount, firstOffset: next)
                        }
                    } catch {
                        completions.append(Completion(continuation: p.continuation, result: .failure(error)))
                        continue
                    }
                }
                accepted.append(p)
                ranges.append(OffsetRange(first: Offset(next), end: Offset(next + Int64(p.batch.recordCount))))
                next += Int64(p.batch.recordCount)
            }
        }
        guard !accepted.isEmpty else { return }

        var i = 0
        while i < accepted.count {
            // One run per segment: roll first if the next batch does not fit.
            let segment: Segment
            do {
                segment = try activeSegment(forNextBatchOf: accepted[i].batch.bytes.count)
            } catch {
                fail(accepted[i...], from: ranges[i].first.rawValue, error, &completions)
                return
            }
            let startSize = segment.size
            let now = clock.now()
            var runEnd = i
            var bytes = 0
            scratch.buffer.removeAll(keepingCapacity: true)
            while runEnd < accepted.count {
                let b = accepted[runEnd].batch
                if runEnd > i && startSize + Int64(bytes + b.bytes.count) > configuration.segmentBytes { break }
                let at = scratch.buffer.count
                scratch.buffer.append(contentsOf: b.bytes)
                withUnsafeBytes(of: ranges[runEnd].first.rawValue.bigEndian) { raw in
                    for k in 0..<8 { scratch.buffer[at + k] = raw[k] }
                }
                bytes += b.bytes.count
                runEnd += 1
            }
            do {
                try segment.log.write(scratch.buffer, at: startSize)
            } catch {
                // Nothing of this run may stay: cut the file back to where it was.
                do { try segment.log.truncate(to: startSize) } catch {
                    state.withLock { $0.needsRepair = (segment.baseOffset, startSize) }
                }
                logger.warning("append failed, nothing written", metadata: ["error": "\(error)"])
                fail(accepted[i...], from: ranges[i].first.rawValue, error, &completions)
                return
            }
            var position = startSize
            for k in i..<runEnd {
                let p = accepted[k], r = ranges[k]
                segment.noteBatchWritten(baseOffset: r.first.rawValue, nextOffset: r.end.rawValue, position: position,
                                         size: p.batch.bytes.count, maxTimestamp: p.batch.maxTimestamp,
                                         firstTimestamp: p.batch.baseTimestamp, indexInterval: configuration.indexIntervalBytes, now: now)
                position += Int64(p.batch.bytes.count)
                written.append((p, r))
            }
            let end = ranges[runEnd - 1].end.rawValue
            state.withLock { s in
                s.nextOffset = end
                s.dirty = true
                s.statistics.appendedBatches += Int64(runEnd - i)
                s.statistics.appendedRecords += ranges[i..<runEnd].reduce(0) { $0 + Int64($1.count) }
                s.statistics.appendedBytes += Int64(bytes)
            }
            try? segment.flushIndexes()
            if configuration.durability != .fsync { segment.startWritebackIfDue(every: Self.writebackBytes) }
            i = runEnd
        }
    }

    /// Keeps the writer hot for a few microseconds after a group: the appenders it just
    /// resumed usually append again at once, and finding them here saves a thread wake-up
    /// per append. Bounded and yielding, so an idle partition costs nothing measurable.
    /// Adaptive: when recent spins found nothing (appenders busy compressing, say), it stops
    /// spinning and only probes now and then, so it never takes CPU the appenders need.
    private func lingerForNextAppend() {
        scratch.drains &+= 1
        if scratch.spinCredit <= 0 {
            guard scratch.drains % 32 == 0 else { return }
            scratch.spinCredit = 1
        }
        let until = FileSystem.monotonicNanoseconds() + Self.idleSpinNanoseconds
        while FileSystem.monotonicNanoseconds() < until {
            if state.withLock({ !$0.pending.isEmpty }) {
                scratch.spinCredit = min(scratch.spinCredit + 1, 16)
                return
            }
            sched_yield()
        }
        scratch.spinCredit -= 4
    }

    /// Under `none` and `interval` durability, writeback of the active segment is started
    /// after every this many bytes (``Segment/startWritebackIfDue(every:)``).
    static let writebackBytes: Int64 = 8 << 20

    /// How long the writer looks for the next append before it lets its thread go.
    static let idleSpinNanoseconds: UInt64 = 30_000

    /// Fails appends that were not written and forgets their provisional producer records.
    private func fail(_ appends: ArraySlice<PendingAppend>, from offset: Int64, _ error: any Error, _ completions: inout [Completion]) {
        state.withLock { $0.producers.truncate(atOffset: offset) }
        for p in appends { completions.append(Completion(continuation: p.continuation, result: .failure(error))) }
    }

    /// The segment the next batch goes to, rolling a new one when it would not fit or is too old.
    private func activeSegment(forNextBatchOf size: Int) throws(LogError) -> Segment {
        let (active, next) = state.withLock { ($0.segments.last!, $0.nextOffset) }
        guard mustRoll(active, forNextBatchOf: size) else { return active }
        return try roll(from: active, nextOffset: next)
    }

    /// Whether a batch of `size` bytes must go to a new segment: the active one is full or too old.
    private func mustRoll(_ active: Segment, forNextBatchOf size: Int) -> Bool {
        guard active.size > 0 else { return false }
        if active.size + Int64(size) > configuration.segmentBytes { return true }
        return active.firstAppendAt.map { clock.now() - $0 >= configuration.segmentMs } ?? false
    }

    /// Seals the active segment (synced, indexes written) and starts a new one at `nextOffset`.
    func roll(from active: Segment, nextOffset: Int64) throws(LogError) -> Segment {
        try active.log.sync()
        try active.writeIndexesCompletely(sync: true)
        active.closeIndexFiles()
        active.publish()
        let fresh = try Segment.create(directory: directory, baseOffset: nextOffset, faults: faults)
        try FileSystem.syncDirectory(directory)
        let ready = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.segments.append(fresh)
            // Everything in the sealed segment is durable now.
            s.durable = RecoveryCheckpoint(segmentBase: fresh.baseOffset, position: 0, nextOffset: nextOffset, producers: s.producers)
            s.visibleEnd = max(s.visibleEnd, active.nextOffset)
            return Partition.takeReadyWaiters(&s)
        }
        for c in ready { c.resume(returning: true) }
        logger.debug("rolled segment", metadata: ["base": "\(nextOffset)"])
        return fresh
    }

    /// `fdatasync(2)`s the active segment, then makes the group visible and acknowledges it.
    private func syncAndPublish(_ written: [(PendingAppend, OffsetRange)], completions: inout [Completion]) {
        guard !written.isEmpty else { return }
        let (segment, size, next, producers) = state.withLock { s in (s.segments.last!, s.segments.last!.size, s.nextOffset, s.producers) }
        do {
            try segment.log.sync()
        } catch {
            // After a failed fdatasync the page cache cannot be trusted: drop the whole group.
            let firstOffset = written[0].1.first.rawValue
            let cutAt = state.withLock { s -> Int64 in
                s.nextOffset = firstOffset
                s.producers.truncate(atOffset: firstOffset)
                return firstOffset
            }
            cutBack(to: cutAt)
            for (p, _) in written { completions.append(Completion(continuation: p.continuation, result: .failure(error))) }
            return
        }
        let ready = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.durable = RecoveryCheckpoint(segmentBase: segment.baseOffset, position: size, nextOffset: next, producers: producers)
            s.dirty = false
            s.lastSyncMs = clock.now()
            s.statistics.syncs += 1
            s.statistics.batchesSynced += Int64(written.count)
            return Partition.takeReadyWaiters(&s)
        }
        for (p, r) in written { completions.append(Completion(continuation: p.continuation, result: .success(r))) }
        for c in ready { c.resume(returning: true) }
        _ = publishLocked(segment)
    }

    /// Makes written data visible without syncing (`interval` and `none` durability).
    private func publish(_ written: [(PendingAppend, OffsetRange)], completions: inout [Completion]) {
        guard !written.isEmpty else { return }
        let segment = state.withLock { $0.segments.last! }
        for (p, r) in written { completions.append(Completion(continuation: p.continuation, result: .success(r))) }
        _ = publishLocked(segment)
    }

    @discardableResult
    private func publishLocked(_ segment: Segment) -> Bool {
        segment.publish()
        let ready = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.visibleEnd = s.nextOffset
            return Partition.takeReadyWaiters(&s)
        }
        for c in ready { c.resume(returning: true) }
        return true
    }

    /// Cuts the log back so that `offset` is the next offset (after a failed sync).
    private func cutBack(to offset: Int64) {
        let segments = state.withLock { $0.segments }
        guard let segment = segments.last(where: { $0.baseOffset <= offset }) else { return }
        do {
            var scanner = BatchScanner(file: segment.log, start: 0, end: segment.size)
            var cut: Int64 = 0
            var maxTs = Int64.min
            while let (pos, header) = try scanner.nextHeader() {
                if header.baseOffset >= offset { cut = pos; break }
                cut = pos + Int64(header.totalSize)
                maxTs = max(maxTs, header.maxTimestamp)
            }
            try segment.truncate(toSize: cut, nextOffset: offset, maxTimestamp: maxTs)
        } catch {
            state.withLock { $0.needsRepair = (segment.baseOffset, segment.visibleSize) }
            logger.error("could not cut back the log after a failed sync", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Syncing outside the append path

    /// Syncs the active segment now and records the durable point (the `interval` flusher, close).
    func syncNow() throws(LogError) {
        let (segment, size, next, producers, dirty) = state.withLock { s in
            (s.segments.last!, s.segments.last!.size, s.nextOffset, s.producers, s.dirty)
        }
        guard dirty else { return }
        try segment.log.sync()
        state.withLock { s in
            if s.segments.last === segment {
                s.durable = RecoveryCheckpoint(segmentBase: segment.baseOffset, position: size, nextOffset: next, producers: producers)
            }
            if s.nextOffset == next { s.dirty = false }
            s.lastSyncMs = clock.now()
        }
    }

    /// Writes the recovery checkpoint if the durable point moved since the last one and
    /// (unless `force`) the last write is at least `checkpointIntervalMs` old, so the extra
    /// sync of the checkpoint file costs the append path at most one per second.
    func writeCheckpointIfChanged(force: Bool = true, now: Int64 = 0) throws(LogError) {
        let (durable, last, lastWrite) = state.withLock { ($0.durable, $0.lastCheckpoint, $0.lastCheckpointWriteMs) }
        guard durable != last else { return }
        if !force && now - lastWrite < Self.checkpointIntervalMs { return }
        try FileSystem.writeAtomically(directory + "/" + RecoveryCheckpoint.fileName, durable.encoded(), directory: directory, faults: faults)
        state.withLock {
            $0.lastCheckpoint = durable
            $0.lastCheckpointWriteMs = now
        }
    }

    /// Whether the periodic flusher should sync this partition now.
    func syncDue(now: Int64) -> Bool {
        state.withLock { s in
            guard s.dirty, !s.closed else { return false }
            switch configuration.durability {
            case .fsync: return false
            case .interval(let ms): return now - s.lastSyncMs >= Int64(ms)
            case .none: return now - s.lastSyncMs >= 30_000
            }
        }
    }
}
