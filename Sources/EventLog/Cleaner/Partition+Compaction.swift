#if canImport(Glibc)
import Glibc
#endif
import Logging

/// How compaction runs: memory budget and I/O throttle.
public struct CompactionLimits: Sendable, Hashable {
    /// Memory for the key → offset map; more keys than fit are cleaned in several passes.
    public var offsetMapBytes: Int = 64 << 20
    /// Bytes per second the cleaner may read plus write; `nil` for no limit.
    public var bytesPerSecond: Int? = 128 << 20

    /// The defaults: 64 MiB map, 128 MiB/s.
    public init(offsetMapBytes: Int = 64 << 20, bytesPerSecond: Int? = 128 << 20) {
        self.offsetMapBytes = offsetMapBytes
        self.bytesPerSecond = bytesPerSecond
    }
}

extension Partition {
    static let cleanerCheckpointFile = "cleaner-checkpoint"

    /// Compacts the closed segments now: keeps only the latest record per key, drops
    /// tombstones `deleteRetentionMs` after the cleaner first saw them (not after their own
    /// timestamp, which the producer chose), keeps records without a key, keeps offsets.
    ///
    /// Never blocks appends (the active segment is not touched, and the pass runs on the
    /// store's maintenance thread, not on the threads appends use) and never changes what a
    /// reader already inside a segment sees (it keeps the old file). A call made while
    /// another is waiting to start shares that pass and its report (and its `limits`). Crash
    /// safe: see Docs/ARCHITECTURE.md, "The cleaner's file swap".
    /// - Throws: ``LogError/Code/notCompacted`` when the topic's policy has no `compact`;
    ///   ``LogError/Code/closed`` when the partition closes (its topic is deleted) first.
    public func compact(limits: CompactionLimits = CompactionLimits()) async throws -> CompactionReport {
        let policy = configuration.current.cleanupPolicy
        guard policy.contains(.compact) else {
            throw LogError(.notCompacted, "topic \(topicName) has cleanup policy \(policy), not compact.")
        }
        guard case .compaction(let report) = try await requestPass(.compaction, { .compaction(try self.compactBlocking(now: self.clock.now(), limits: limits)) }) else {
            preconditionFailure("a compaction request answered by another kind of pass")
        }
        return report
    }

    /// The fraction of the closed log written since the last compaction (0 when nothing is closed).
    public var dirtyRatio: Double {
        let segments = state.withLock { $0.segments }.dropLast()
        let firstDirty = maintenance.withLock { $0.firstDirtyOffset.rawValue }
        let total = segments.reduce(Int64(0)) { $0 + $1.size }
        guard total > 0 else { return 0 }
        let dirty = segments.filter { $0.visibleNextOffset > firstDirty }.reduce(Int64(0)) { $0 + $1.size }
        return Double(dirty) / Double(total)
    }

    /// Whether some dirty record is older than `maxCompactionLagMs` (it must be cleaned now).
    func compactionOverdue(now: Int64) -> Bool {
        let maxLagMs = configuration.current.maxCompactionLagMs
        guard maxLagMs < .max else { return false }
        let segments = state.withLock { $0.segments }.dropLast()
        let firstDirty = maintenance.withLock { $0.firstDirtyOffset.rawValue }
        return segments.contains { $0.visibleNextOffset > firstDirty && ($0.firstTimestamp ?? Int64.max) < now - maxLagMs }
    }

    /// Whether a tombstone the cleaner kept is now past `deleteRetentionMs`: a pass would remove it.
    func tombstonesExpired(now: Int64) -> Bool {
        let deleteRetentionMs = configuration.current.deleteRetentionMs
        return maintenance.withLock { $0.tombstoneSightings }.expiredTombstones(now: now, deleteRetentionMs: deleteRetentionMs)
    }

    /// One compaction (as many passes as the map's budget needs), on the maintenance lane
    /// (see ``exclusivePass(_:)``).
    func compactBlocking(now: Int64, limits: CompactionLimits) throws -> CompactionReport {
        let started = FileSystem.monotonicNanoseconds()
        return try exclusivePass { () throws -> CompactionReport in
            // Passes never overlap (exclusivePass), so this copy is the state; readers of
            // `cleanerState` see it move after each pass.
            var cleaner = maintenance.withLock { $0 }
            let before = state.withLock { s in (s.segments.reduce(Int64(0)) { $0 + $1.size }, s.segments.count) }
            var report = CompactionReport(bytesBefore: before.0, bytesAfter: before.0, recordsRemoved: 0, bytesRead: 0,
                                          bytesWritten: 0, segmentsBefore: before.1, segmentsAfter: before.1, passes: 0,
                                          duration: .zero)
            var throttle = Throttle(bytesPerSecond: limits.bytesPerSecond)
            // The settings as the pass starts: an alter made meanwhile applies from the next one.
            let settings = configuration.current
            while true {
                let done = try compactionPass(now: now, settings: settings, limits: limits, cleaner: &cleaner, report: &report,
                                              throttle: &throttle)
                maintenance.withLock { [cleaner] in
                    $0.firstDirtyOffset = cleaner.firstDirtyOffset
                    $0.tombstoneSightings = cleaner.tombstoneSightings
                }
                if done { break }
            }
            let after = state.withLock { s in (s.segments.reduce(Int64(0)) { $0 + $1.size }, s.segments.count) }
            report.bytesAfter = after.0
            report.segmentsAfter = after.1
            report.duration = .milliseconds(Int64((FileSystem.monotonicNanoseconds() - started) / 1_000_000))
            cleaner.lastCompaction = report
            cleaner.lastCompactionAt = clock.now()
            cleaner.totalBytesRead += report.bytesRead
            cleaner.totalBytesWritten += report.bytesWritten
            cleaner.compactionsRun += 1
            maintenance.withLock { $0 = cleaner }
            logger.info("compacted", metadata: [
                "bytes_before": "\(report.bytesBefore)", "bytes_after": "\(report.bytesAfter)",
                "records_removed": "\(report.recordsRemoved)", "passes": "\(report.passes)", "ms": "\(report.duration.wholeMilliseconds)",
            ])
            return report
        }
    }

    /// One pass: map the dirty range (as far as the map's budget allows), clean every closed
    /// segment up to where the map ends, swap the results in. Returns true when nothing dirty is left.
    ///
    /// With nothing dirty, a pass still runs when a tombstone it kept has expired: with an
    /// empty map it only removes expired tombstones.
    private func compactionPass(now: Int64, settings: TopicConfiguration, limits: CompactionLimits, cleaner: inout CleanerState,
                                report: inout CompactionReport, throttle: inout Throttle) throws -> Bool {
        try checkPassMayContinue()
        let segments = state.withLock { $0.segments }
        // Closed segments old enough for minCompactionLagMs form the cleanable prefix.
        var cleanable: [Segment] = []
        for segment in segments.dropLast() {
            let maxTs = try segment.loadedMaxTimestamp()
            if settings.minCompactionLagMs > 0 && maxTs > now - settings.minCompactionLagMs { break }
            cleanable.append(segment)
        }
        guard let lastCleanable = cleanable.last else { return true }
        let cleanableEnd = segments[cleanable.count].baseOffset
        let firstDirty = max(cleaner.firstDirtyOffset.rawValue, cleanable[0].baseOffset)
        let dirty = firstDirty < cleanableEnd
        guard dirty || cleaner.tombstoneSightings.expiredTombstones(now: now, deleteRetentionMs: settings.deleteRetentionMs) else {
            return true
        }
        _ = lastCleanable
        report.passes += 1

        // 1. The map: latest offset of every key in [firstDirty, mapEnd).
        var map = OffsetMap(budgetBytes: dirty ? limits.offsetMapBytes : 0)
        var mapEnd = dirty ? cleanableEnd : firstDirty
        mapping: for segment in cleanable where dirty && segment.visibleNextOffset > firstDirty {
            let from = firstDirty > segment.baseOffset ? try segment.position(forOffset: firstDirty) : 0
            var scanner = BatchScanner(file: segment.log, start: from, end: segment.size, chunkSize: 1 << 20)
            while true {
                let at = scanner.position
                guard let more = try scanner.nextBatch(verify: true, { _, h, batch -> Bool in
                    guard h.nextOffset > firstDirty else { return true }
                    if !map.canTake(Int(h.recordCount)) {
                        mapEnd = max(firstDirty, h.baseOffset)
                        return false
                    }
                    try h.forEachRecord(in: batch) { view in
                        guard view.offset >= firstDirty, let key = view.key else { return }
                        map.put(OffsetMap.hash(key), offset: view.offset)
                    }
                    return true
                }) else { break }
                report.bytesRead += scanner.position - at
                throttle.account(Int(scanner.position - at))
                if !more { break mapping }
            }
        }
        if dirty && mapEnd <= firstDirty {
            // Not even one batch fits the budget: clean nothing rather than loop forever.
            throw LogError(.invalidArgument, "the compaction map's budget of \(limits.offsetMapBytes) bytes cannot hold one batch of \(topicName)/\(index).")
        }

        // 2. Clean every closed segment that starts below mapEnd, in groups whose current
        //    size fits one segment, so small cleaned segments merge (and whose offsets fit
        //    the 32-bit relative offsets of one file's indexes).
        let sources = cleanable.filter { $0.baseOffset < mapEnd }
        var groups: [[Segment]] = []
        var current: [Segment] = []
        var currentSize: Int64 = 0
        for s in sources {
            if !current.isEmpty && !Self.fitsOneFile(current[0], currentSize, adding: s, segmentBytes: configuration.segmentBytes) {
                groups.append(current)
                current = []
                currentSize = 0
            }
            current.append(s)
            currentSize += s.size
        }
        if !current.isEmpty { groups.append(current) }

        var tombstones = TombstoneClock(sightings: cleaner.tombstoneSightings, now: now,
                                        horizon: now - settings.deleteRetentionMs)
        for group in groups {
            try checkPassMayContinue()
            try cleanGroup(group, map: map, mapEnd: mapEnd, tombstones: &tombstones, report: &report, throttle: &throttle)
        }
        // Cleaned segments are usually much smaller than before: merge neighbours whose sizes
        // now fit one segment, so a compacted log does not become thousands of tiny files.
        let cleaned = state.withLock { $0.segments }.dropLast().filter { $0.baseOffset < mapEnd }
        var merge: [Segment] = []
        var mergeSize: Int64 = 0
        let keepAll = OffsetMap(budgetBytes: 0)
        for s in cleaned {
            if !merge.isEmpty && !Self.fitsOneFile(merge[0], mergeSize, adding: s, segmentBytes: configuration.segmentBytes) {
                if merge.count > 1 {
                    try checkPassMayContinue()
                    try cleanGroup(merge, map: keepAll, mapEnd: mapEnd, tombstones: &tombstones, report: &report, throttle: &throttle)
                }
                merge = []
                mergeSize = 0
            }
            merge.append(s)
            mergeSize += s.size
        }
        if merge.count > 1 {
            try checkPassMayContinue()
            try cleanGroup(merge, map: keepAll, mapEnd: mapEnd, tombstones: &tombstones, report: &report, throttle: &throttle)
        }
        cleaner.firstDirtyOffset = Offset(mapEnd)
        cleaner.tombstoneSightings.recordPass(cleanedEnd: mapEnd, now: now, horizon: tombstones.horizon, kept: tombstones.kept)
        try writeCleanerCheckpoint(mapEnd, sightings: cleaner.tombstoneSightings)
        return mapEnd >= cleanableEnd
    }

    /// Whether segment `s` may join a file that starts with `first` and holds `size` bytes:
    /// the result fits `segmentBytes`, and every batch's offset stays within the 32 bits of
    /// a relative offset from `first`'s base (compaction leaves gaps; merged neighbours could
    /// otherwise span more than 2^32 offsets).
    static func fitsOneFile(_ first: Segment, _ size: Int64, adding s: Segment, segmentBytes: Int64) -> Bool {
        size + s.size <= segmentBytes && s.visibleNextOffset - first.baseOffset <= Int64(UInt32.max)
    }

    /// Writes the cleaned form of `group` beside it and swaps it in.
    private func cleanGroup(_ group: [Segment], map: OffsetMap, mapEnd: Int64, tombstones: inout TombstoneClock,
                            report: inout CompactionReport, throttle: inout Throttle) throws {
        let base = group[0].baseOffset
        let paths = SegmentPaths(directory: directory, baseOffset: base)
        let out = try FileHandle.open(paths.log + ".cleaned", create: true, faults: faults)
        try out.truncate(to: 0)
        var offsetIndex = OffsetIndex()
        var timeIndex = TimeIndex()
        var position: Int64 = 0
        var sinceEntry = 0
        var maxTs = Int64.min
        var firstTs: Int64?
        var removed: Int64 = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)

        func emit(_ bytes: UnsafeRawBufferPointer, header h: RecordBatchHeader) throws {
            let rel = UInt32(h.baseOffset - base)
            sinceEntry += bytes.count
            if sinceEntry >= configuration.indexIntervalBytes || offsetIndex.isEmpty && position > 0 {
                offsetIndex.append(relativeOffset: rel, position: UInt32(position))
                sinceEntry = 0
            }
            if h.maxTimestamp > maxTs {
                maxTs = h.maxTimestamp
                if timeIndex.relativeOffsets.last.map({ rel > $0 }) ?? true { timeIndex.append(timestamp: maxTs, relativeOffset: rel) }
            }
            if firstTs == nil { firstTs = h.baseTimestamp }
            buffer.append(contentsOf: bytes)
            position += Int64(bytes.count)
            if buffer.count >= 1 << 20 {
                try out.write(buffer, at: position - Int64(buffer.count))
                report.bytesWritten += Int64(buffer.count)
                throttle.account(buffer.count)
                buffer.removeAll(keepingCapacity: true)
            }
        }

        for segment in group {
            var scanner = BatchScanner(file: segment.log, start: 0, end: segment.size, chunkSize: 1 << 20)
            while true {
                let at = scanner.position
                guard try scanner.nextBatch(verify: true, { _, h, batch -> Void in
                    var kept: [StoredRecord] = []
                    var dropped = 0
                    try h.forEachRecord(in: batch) { view in
                        let keep = Self.keeps(view, map: map, mapEnd: mapEnd, tombstones: &tombstones)
                        if keep {
                            kept.append(view.stored())
                        } else {
                            dropped += 1
                        }
                    }
                    removed += Int64(dropped)
                    if dropped == 0 {
                        try emit(batch, header: h)
                    } else if !kept.isEmpty {
                        let cleaned = try EncodedBatch(retaining: kept, from: h, codec: h.codec ?? .none)
                        try cleaned.bytes.withUnsafeBytes { raw in
                            try emit(raw, header: try RecordBatchHeader(parsing: raw))
                        }
                    }
                }) != nil else { break }
                report.bytesRead += scanner.position - at
                throttle.account(Int(scanner.position - at))
            }
        }
        if !buffer.isEmpty {
            try out.write(buffer, at: position - Int64(buffer.count))
            report.bytesWritten += Int64(buffer.count)
        }
        report.recordsRemoved += removed
        if removed == 0 && group.count == 1 {
            // Nothing to change: keep the segment as it is.
            try FileSystem.remove(paths.log + ".cleaned")
            return
        }
        try out.sync()
        let end = group.last!.visibleNextOffset
        try swapIn(group, with: out, size: position, paths: paths, offsetIndex: offsetIndex, timeIndex: timeIndex,
                   nextOffset: end, maxTimestamp: maxTs, firstTimestamp: firstTs, bytesSinceIndexEntry: sinceEntry)
    }

    /// Whether compaction keeps a record: not when a later record of its key is in the map,
    /// nor when it is a tombstone the cleaner first saw more than `deleteRetentionMs` ago.
    static func keeps(_ view: borrowing RecordView, map: OffsetMap, mapEnd: Int64, tombstones: inout TombstoneClock) -> Bool {
        let offset = view.offset
        guard offset < mapEnd, let key = view.key else { return true }
        if let latest = map.get(OffsetMap.hash(key)), latest > offset { return false }
        guard view.value == nil else { return true }
        return tombstones.keeps(offset)
    }

    /// The crash-safe swap (see Docs/ARCHITECTURE.md):
    /// 1. `B.log.cleaned` (synced), its indexes as `B.index.cleaned`/`B.timeindex.cleaned`;
    /// 2. `B.swap-manifest` listing the replaced bases (synced, directory synced);
    /// 3. rename the indexes then the log to `*.swap`, sync the directory: the commit point;
    /// 4. delete the replaced segments' files, sync the directory;
    /// 5. rename `*.swap` to their final names, sync the directory, delete the manifest.
    /// Recovery finishes a swap whose `B.log.swap` exists (steps 4–5) and rolls back any other.
    private func swapIn(_ group: [Segment], with out: FileHandle, size: Int64, paths: SegmentPaths,
                        offsetIndex: OffsetIndex, timeIndex: TimeIndex, nextOffset: Int64, maxTimestamp: Int64,
                        firstTimestamp: Int64?, bytesSinceIndexEntry: Int) throws {
        try FileSystem.writeAtomically(paths.index + ".cleaned", offsetIndex.encoded(), directory: directory, faults: faults)
        try FileSystem.writeAtomically(paths.timeIndex + ".cleaned", timeIndex.encoded(), directory: directory, faults: faults)
        let manifest = Array(group.map { String($0.baseOffset) }.joined(separator: "\n").utf8) + [0x0A]
        try FileSystem.writeAtomically(paths.stem + ".swap-manifest", manifest, directory: directory, faults: faults)
        CrashPoints.hit("compaction.manifest-written")
        try FileSystem.rename(paths.index + ".cleaned", paths.index + ".swap")
        try FileSystem.rename(paths.timeIndex + ".cleaned", paths.timeIndex + ".swap")
        CrashPoints.hit("compaction.indexes-renamed")
        try FileSystem.rename(paths.log + ".cleaned", paths.log + ".swap")
        try FileSystem.syncDirectory(directory)
        CrashPoints.hit("compaction.committed")
        // Readers still inside the replaced segments must not write their index files: the
        // first one's names are the new segment's from here on.
        for s in group { s.retireFiles() }
        try Self.finishSwap(directory: directory, paths: paths, replaced: group.map(\.baseOffset))

        let fresh = Segment(paths: paths, log: out, size: size, nextOffset: nextOffset, maxTimestamp: maxTimestamp,
                            firstTimestamp: firstTimestamp, faults: faults)
        fresh.installIndexes(offsetIndex, timeIndex, bytesSinceIndexEntry: bytesSinceIndexEntry)
        fresh.markIndexesOnDisk()
        state.withLock { s in
            guard let first = s.segments.firstIndex(where: { $0 === group[0] }) else {
                preconditionFailure("a segment being compacted left the partition")
            }
            s.segments.replaceSubrange(first..<(first + group.count), with: [fresh])
        }
    }

    /// Steps 4–5 of the swap; also run by recovery for a committed swap.
    static func finishSwap(directory: String, paths: SegmentPaths, replaced: [Int64]) throws {
        for b in replaced {
            let old = SegmentPaths(directory: directory, baseOffset: b)
            try FileSystem.remove(old.log)
            try FileSystem.remove(old.index)
            try FileSystem.remove(old.timeIndex)
        }
        try FileSystem.syncDirectory(directory)
        CrashPoints.hit("compaction.old-deleted")
        for (from, to) in [(paths.index + ".swap", paths.index), (paths.timeIndex + ".swap", paths.timeIndex), (paths.log + ".swap", paths.log)]
        where FileSystem.exists(from) {
            try FileSystem.rename(from, to)
        }
        try FileSystem.syncDirectory(directory)
        CrashPoints.hit("compaction.renamed")
        try FileSystem.remove(paths.stem + ".swap-manifest")
    }

    /// Finishes or rolls back swaps interrupted by a crash (called before segments are listed).
    static func recoverInterruptedSwaps(directory: String, logger: Logger) throws {
        let names = try FileSystem.list(directory)
        for name in names where name.hasSuffix(".swap-manifest") {
            let stem = String(name.dropLast(".swap-manifest".count))
            guard let base = Int64(stem) else { continue }
            let paths = SegmentPaths(directory: directory, baseOffset: base)
            if FileSystem.exists(paths.log + ".swap") {
                let text = String(decoding: try FileSystem.readFile(directory + "/" + name) ?? [], as: UTF8.self)
                let replaced = text.split(separator: "\n").compactMap { Int64($0) }
                logger.warning("finishing an interrupted compaction swap", metadata: ["segment": "\(base)", "replaces": "\(replaced)"])
                try finishSwap(directory: directory, paths: paths, replaced: replaced)
            } else {
                // Not committed: the old segments are intact; drop the new files.
                logger.warning("rolling back an interrupted compaction", metadata: ["segment": "\(base)"])
                for suffix in [".log.cleaned", ".index.cleaned", ".timeindex.cleaned", ".index.swap", ".timeindex.swap"] {
                    try FileSystem.remove(paths.stem + suffix)
                }
                try FileSystem.remove(directory + "/" + name)
            }
        }
        // Leftovers of a pass that never reached its manifest.
        for name in try FileSystem.list(directory) where name.hasSuffix(".cleaned") {
            try FileSystem.remove(directory + "/" + name)
        }
        // A committed swap whose manifest removal was the only step missing.
        for name in try FileSystem.list(directory) where name.hasSuffix(".swap") {
            let target = String(name.dropLast(".swap".count))
            try FileSystem.rename(directory + "/" + name, directory + "/" + target)
        }
    }

    /// Writes the `cleaner-checkpoint` (version 2: the dirty boundary and the tombstone sightings).
    func writeCleanerCheckpoint(_ firstDirty: Int64, sightings: TombstoneSightings) throws {
        let text = TombstoneSightings.checkpointText(firstDirty: firstDirty, sightings: sightings)
        try FileSystem.writeAtomically(directory + "/" + Self.cleanerCheckpointFile, Array(text.utf8), directory: directory, faults: faults)
    }

    /// Loads the `cleaner-checkpoint` into the cleaner's state (at open). A missing or
    /// unreadable file means everything is dirty and no tombstone was seen yet, which is safe.
    func loadCleanerCheckpoint() {
        let bytes = (try? FileSystem.readFile(directory + "/" + Self.cleanerCheckpointFile)) ?? nil
        guard let bytes, let parsed = TombstoneSightings.parseCheckpoint(String(decoding: bytes, as: UTF8.self), now: clock.now()) else {
            return
        }
        maintenance.withLock {
            $0.firstDirtyOffset = Offset(parsed.firstDirty)
            $0.tombstoneSightings = parsed.sightings
        }
    }
}

/// The tombstone expiry of one compaction pass: which tombstones go, and in which sighted
/// ranges some stay (``TombstoneSightings``).
struct TombstoneClock {
    let sightings: TombstoneSightings
    let now: Int64
    /// Tombstones first seen before this (`now - deleteRetentionMs`) are removed.
    let horizon: Int64
    /// Per sighted range, and one more for the range the pass sees first: whether a tombstone stays there.
    private(set) var kept: [Bool]

    init(sightings: TombstoneSightings, now: Int64, horizon: Int64) {
        self.sightings = sightings
        self.now = now
        self.horizon = horizon
        kept = Array(repeating: false, count: sightings.ranges.count + 1)
    }

    /// Whether the tombstone at `offset` stays; notes where it does.
    mutating func keeps(_ offset: Int64) -> Bool {
        guard sightings.firstSeen(offset, now: now) >= horizon else { return false }
        let i = sightings.rangeIndex(of: offset)
        if i >= 0 { kept[i] = true }
        return true
    }
}

/// Keeps the cleaner under its byte rate by sleeping between chunks.
struct Throttle {
    let bytesPerSecond: Int?
    private var windowStart = FileSystem.monotonicNanoseconds()
    private var bytes = 0

    init(bytesPerSecond: Int?) { self.bytesPerSecond = bytesPerSecond }

    mutating func account(_ n: Int) {
        guard let rate = bytesPerSecond, rate > 0 else { return }
        bytes += n
        let elapsed = FileSystem.monotonicNanoseconds() - windowStart
        let allowedNs = UInt64(Double(bytes) / Double(rate) * 1e9)
        if allowedNs > elapsed { usleep(useconds_t(min((allowedNs - elapsed) / 1000, 1_000_000))) }
        if elapsed > 1_000_000_000 {
            windowStart = FileSystem.monotonicNanoseconds()
            bytes = 0
        }
    }
}
