#if canImport(Glibc)
import Glibc
#endif

extension Partition {
    /// Under `none` and `interval` durability, writeback of the active segment is started
    /// after every this many bytes (``Segment/startWritebackIfDue(every:)``).
    static let writebackBytes: Int64 = 8 << 20

    /// How long the writer looks for the next append before it lets its thread go.
    static let idleSpinNanoseconds: UInt64 = 30_000

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
            var run = GroupRun(group.count)
            write(group, into: &run)

            if configuration.durability == .fsync && run.writtenCount > 0 {
                // Group commit: appends that queued while the group was written join its sync.
                // No wait for more: while this sync runs, the next appends queue for the next
                // one (ADR 0013).
                var rounds = 0
                while rounds < 64 {
                    let more = state.withLock { $0.takePending() }
                    if more.isEmpty { break }
                    write(more, into: &run)
                    rounds += 1
                }
                if rounds > 0 { CrashPoints.hit("append.grouped") }
                syncAndPublish(&run)
            } else {
                publish(&run)
            }
            for c in run.resolved() { c.continuation?.resume(with: c.result) }
        }
    }

    /// Writes a group: idempotence checks, offsets, roll, one `pwrite` per segment touched.
    ///
    /// Offsets (and idempotent producers' records) are assigned under the lock and are
    /// provisional until written: a failed write forgets them again. A write that fails is
    /// cut back off the file, so nothing of it is ever read; when even that fails the
    /// partition refuses writes (``writeFailure``).
    func write(_ group: [PendingAppend], into run: inout GroupRun) {
        var accepted: [Int] = []
        accepted.reserveCapacity(group.count)
        let refused = state.withLock { s -> LogError? in
            if let failure = s.writeFailure { return failure }
            var next = s.nextOffset
            for p in group {
                if let stamp = p.batch.producer {
                    do {
                        switch try s.producers.check(stamp, count: p.batch.recordCount) {
                        case .duplicate(let range):
                            // Acknowledged already, or written earlier in this very group: then
                            // the retry's answer is its original's, whatever that turns out to be.
                            if range.end.rawValue <= s.visibleEnd {
                                run.answer(p, .success(range))
                            } else {
                                run.follow(p, original: range)
                            }
                            continue
                        case .new:
                            s.producers.record(stamp, count: p.batch.recordCount, firstOffset: next)
                        }
                    } catch {
                        run.answer(p, .failure(error))
                        continue
                    }
                }
                let end = next + Int64(p.batch.recordCount)
                accepted.append(run.accept(p, range: OffsetRange(first: Offset(next), end: Offset(end))))
                next = end
            }
            return nil
        }
        if let refused {
            for p in group { run.answer(p, .failure(refused)) }
            return
        }
        guard !accepted.isEmpty else { return }

        var i = 0
        while i < accepted.count {
            let first = run.entries[accepted[i]]
            // One run per segment: roll first if the next batch does not fit.
            let segment: Segment
            do {
                segment = try activeSegment(forNextBatchOf: first.batch!.bytes.count)
            } catch {
                forget(accepted[i...], of: &run, from: first.range.first.rawValue, error)
                return
            }
            let startSize = segment.size
            let now = clock.now()
            var runEnd = i
            var bytes = 0
            var batches: [EncodedBatch] = []
            scratch.baseOffsets.removeAll(keepingCapacity: true)
            while runEnd < accepted.count, runEnd - i < Self.maxBatchesPerWrite {
                let entry = run.entries[accepted[runEnd]]
                let b = entry.batch!
                if runEnd > i && startSize + Int64(bytes + b.bytes.count) > configuration.segmentBytes { break }
                batches.append(b)
                scratch.baseOffsets.append(entry.range.first.rawValue.bigEndian)
                bytes += b.bytes.count
                runEnd += 1
            }
            do {
                // Each batch from its own buffer, after its base offset, which the writer
                // stamps now: the batch bytes are not copied again on their way to the file.
                try withBytes(of: scratch.baseOffsets) { stamps throws(LogError) in
                    var pieces: [UnsafeRawBufferPointer] = []
                    pieces.reserveCapacity(2 * batches.count)
                    try Self.withPieces(of: batches[...], stamps: stamps, &pieces) { pieces throws(LogError) in
                        try segment.log.write(gathering: pieces, at: startSize)
                    }
                }
            } catch {
                // Nothing of this run may stay: cut the file back to where it was. When that
                // fails too, bytes nobody will acknowledge sit in the file: refuse writes.
                do {
                    try segment.log.truncate(to: startSize)
                } catch let truncateError {
                    refuseWrites(after: truncateError)
                }
                logger.warning("append failed, nothing written", metadata: ["error": "\(error)"])
                forget(accepted[i...], of: &run, from: first.range.first.rawValue, error)
                return
            }
            CrashPoints.hit("append.written")
            var position = startSize
            for k in i..<runEnd {
                let entry = run.entries[accepted[k]]
                let b = entry.batch!
                segment.noteBatchWritten(baseOffset: entry.range.first.rawValue, nextOffset: entry.range.end.rawValue,
                                         position: position, size: b.bytes.count, maxTimestamp: b.maxTimestamp,
                                         firstTimestamp: b.baseTimestamp, indexInterval: configuration.indexIntervalBytes, now: now)
                position += Int64(b.bytes.count)
            }
            run.noteWritten(runEnd - i)
            let end = run.entries[accepted[runEnd - 1]].range.end.rawValue
            let records = accepted[i..<runEnd].reduce(Int64(0)) { $0 + Int64(run.entries[$1].range.count) }
            state.withLock { s in
                s.nextOffset = end
                s.writtenPosition = position
                s.dirty = true
                s.statistics.appendedBatches += Int64(runEnd - i)
                s.statistics.writes += 1
                s.statistics.appendedRecords += records
                s.statistics.appendedBytes += Int64(bytes)
            }
            do {
                try segment.flushIndexes()
            } catch {
                // The entries stay in memory and are written by the next flush, the roll or close.
                logger.warning("could not write index entries; they are retried", metadata: ["error": "\(error)"])
            }
            if configuration.durability != .fsync { segment.startWritebackIfDue(every: Self.writebackBytes) }
            i = runEnd
        }
    }

    /// The most batches one write takes (two `pwritev(2)` pieces each, within `IOV_MAX`).
    static let maxBatchesPerWrite = FileHandle.maxPieces / 2

    /// Calls `body` with the pieces that write `batches` in order: each batch's base offset
    /// (8 bytes of `stamps`), then the rest of its bytes, in place.
    private static func withPieces(
        of batches: ArraySlice<EncodedBatch>, stamps: UnsafeRawBufferPointer, _ pieces: inout [UnsafeRawBufferPointer],
        _ body: ([UnsafeRawBufferPointer]) throws(LogError) -> Void
    ) throws(LogError) {
        guard let batch = batches.first else { return try body(pieces) }
        let k = pieces.count / 2
        let result: Result<Void, LogError> = batch.bytes.withUnsafeBytes { raw in
            pieces.append(UnsafeRawBufferPointer(rebasing: stamps[k * 8..<k * 8 + 8]))
            pieces.append(UnsafeRawBufferPointer(rebasing: raw[8...]))
            defer { pieces.removeLast(2) }
            do throws(LogError) {
                return .success(try withPieces(of: batches.dropFirst(), stamps: stamps, &pieces, body))
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Fails accepted appends that were not written and forgets their provisional producer records.
    private func forget(_ indices: ArraySlice<Int>, of run: inout GroupRun, from offset: Int64, _ error: any Error) {
        state.withLock { $0.producers.truncate(atOffset: offset) }
        run.fail(indices, error)
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

    /// The segment the next batch goes to, rolling a new one when it would not fit or is too old.
    private func activeSegment(forNextBatchOf size: Int) throws(LogError) -> Segment {
        let (active, next) = state.withLock { ($0.segments.last!, $0.nextOffset) }
        guard mustRoll(active, forNextBatchOf: size) else { return active }
        return try roll(from: active, nextOffset: next)
    }

    /// Whether a group of `count` batches of `bytes` in all must roll `active` on its way in
    /// (an empty segment takes one batch of any size, and a group that fits).
    func mustRoll(_ active: Segment, forGroupOf count: Int, bytes: Int) -> Bool {
        if active.size == 0, count > 1 { return Int64(bytes) > configuration.segmentBytes }
        return mustRoll(active, forNextBatchOf: bytes)
    }

    /// Whether a batch of `size` bytes must go to a new segment: the active one is full or too old.
    func mustRoll(_ active: Segment, forNextBatchOf size: Int) -> Bool {
        guard active.size > 0 else { return false }
        if active.size + Int64(size) > configuration.segmentBytes { return true }
        return active.firstAppendAt.map { clock.now() - $0 >= configuration.segmentMs } ?? false
    }
}
