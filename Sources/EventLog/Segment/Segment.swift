import Synchronization

/// The file names of a segment: `<20-digit base offset>.log`, `.index`, `.timeindex`.
package struct SegmentPaths: Sendable {
    package let directory: String
    package let baseOffset: Int64

    package init(directory: String, baseOffset: Int64) {
        self.directory = directory
        self.baseOffset = baseOffset
    }

    package static func fileStem(_ baseOffset: Int64) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    package var stem: String { directory + "/" + Self.fileStem(baseOffset) }
    package var log: String { stem + ".log" }
    package var index: String { stem + ".index" }
    package var timeIndex: String { stem + ".timeindex" }

    /// The base offset named by a `.log` file name, or `nil` for any other name.
    package static func baseOffset(ofLogFile name: String) -> Int64? {
        guard name.hasSuffix(".log"), name.utf8.count == 24 else { return nil }
        let digits = name.prefix(20)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(digits)
    }

    /// The base offset named by an `.index` or `.timeindex` file name, or `nil` for any other name.
    package static func baseOffset(ofIndexFile name: String) -> Int64? {
        let stem: Substring
        if name.hasSuffix(".index") { stem = name.dropLast(".index".count) }
        else if name.hasSuffix(".timeindex") { stem = name.dropLast(".timeindex".count) }
        else { return nil }
        guard stem.utf8.count == 20, stem.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(stem)
    }
}

/// One segment of a partition: a `.log` file of batches and its sparse indexes.
///
/// Only the partition's writer changes a segment, and only the newest one; readers share
/// the same object and see bytes up to `visibleSize`, which advances only once the data
/// is as durable as the topic promises.
final class Segment: Sendable {
    let paths: SegmentPaths
    let log: FileHandle
    let faults: FaultInjector?
    private let state: Mutex<State>
    /// The index files, opened by the writer's first flush and kept open until the segment
    /// is sealed, so that a flush is one `pwrite(2)` per file, not an `open(2)` as well.
    private let indexFiles = Mutex<(offsets: FileHandle, times: FileHandle)?>(nil)
    /// Whether the segment's files were deleted (retention, compaction, a deleted topic).
    /// Held while a reader loads the index files, so that no reader writes files for a
    /// segment that is gone (a cold path: only the first use of a segment's indexes).
    private let filesRetired = Mutex(false)

    struct State: Sendable {
        /// Bytes written to the file (the writer's view).
        var size: Int64
        /// Bytes readers may see.
        var visibleSize: Int64
        /// The offset after the last record written.
        var nextOffset: Int64
        /// The offset after the last record readers may see.
        var visibleNextOffset: Int64
        /// The largest timestamp written, or `Int64.min` for an empty segment.
        var maxTimestamp: Int64
        /// The first record's timestamp (for the compaction lag), or `nil` for an empty segment.
        var firstTimestamp: Int64?
        /// Wall-clock time of the first append this process made to the segment: its age for
        /// rolling by `segmentMs` (record timestamps are the producer's and may be far off).
        var firstAppendAt: Int64?
        var offsetIndex: OffsetIndex?
        var timeIndex: TimeIndex?
        var offsetEntriesOnDisk = 0
        var timeEntriesOnDisk = 0
        var bytesSinceIndexEntry = 0
        /// Where the writeback the writer started last ended (``startWritebackIfDue(every:)``).
        var writebackFrom: Int64 = 0
    }

    var baseOffset: Int64 { paths.baseOffset }

    /// Opens (or creates) a segment whose facts are already known.
    init(paths: SegmentPaths, log: FileHandle, size: Int64, nextOffset: Int64, maxTimestamp: Int64,
         firstTimestamp: Int64?, faults: FaultInjector?) {
        self.paths = paths
        self.log = log
        self.faults = faults
        self.state = Mutex(State(size: size, visibleSize: size, nextOffset: nextOffset, visibleNextOffset: nextOffset,
                                 maxTimestamp: maxTimestamp, firstTimestamp: firstTimestamp, writebackFrom: size))
    }

    /// Creates a new, empty segment file.
    ///
    /// - Parameter inNewDirectory: the directory was just made, so the files are new: they
    ///   are not truncated (files of the same names left by a crash are, otherwise). On ext4,
    ///   truncating a file to zero also makes its close start a writeback (`auto_da_alloc`),
    ///   a cost worth sparing for the thousands of partitions of a new topic.
    static func create(directory: String, baseOffset: Int64, faults: FaultInjector?,
                       inNewDirectory: Bool = false) throws(LogError) -> Segment {
        let paths = SegmentPaths(directory: directory, baseOffset: baseOffset)
        let log = try FileHandle.open(paths.log, create: true, faults: faults)
        if !inNewDirectory { try log.truncate(to: 0) }
        for path in [paths.index, paths.timeIndex] {
            let f = try FileHandle.open(path, create: true, faults: faults)
            if !inNewDirectory { try f.truncate(to: 0) }
        }
        let segment = Segment(paths: paths, log: log, size: 0, nextOffset: baseOffset, maxTimestamp: .min,
                              firstTimestamp: nil, faults: faults)
        segment.state.withLock {
            $0.offsetIndex = OffsetIndex()
            $0.timeIndex = TimeIndex()
        }
        return segment
    }

    // MARK: Facts

    var size: Int64 { state.withLock { $0.size } }
    var visibleSize: Int64 { state.withLock { $0.visibleSize } }
    var nextOffset: Int64 { state.withLock { $0.nextOffset } }
    var visibleNextOffset: Int64 { state.withLock { $0.visibleNextOffset } }
    var maxTimestamp: Int64 { state.withLock { $0.maxTimestamp } }
    var firstTimestamp: Int64? { state.withLock { $0.firstTimestamp } }
    var firstAppendAt: Int64? { state.withLock { $0.firstAppendAt } }

    /// Makes everything written so far visible to readers.
    func publish() {
        state.withLock {
            $0.visibleSize = $0.size
            $0.visibleNextOffset = $0.nextOffset
        }
    }

    // MARK: Writing (the partition's writer only)

    /// Records that a batch was written at `position`, adding index entries as the interval requires.
    func noteBatchWritten(baseOffset batchBase: Int64, nextOffset batchNext: Int64, position: Int64, size: Int,
                          maxTimestamp ts: Int64, firstTimestamp: Int64, indexInterval: Int, now: Int64) {
        state.withLock { s in
            if s.firstAppendAt == nil { s.firstAppendAt = now }
            s.size = position + Int64(size)
            s.nextOffset = batchNext
            if s.firstTimestamp == nil { s.firstTimestamp = firstTimestamp }
            s.bytesSinceIndexEntry += size
            let rel = UInt32(batchBase - paths.baseOffset)
            if s.bytesSinceIndexEntry >= indexInterval || (s.offsetIndex?.isEmpty ?? true) && position > 0 {
                if s.offsetIndex == nil { s.offsetIndex = OffsetIndex() }
                let lastRel = s.offsetIndex!.isEmpty ? nil : s.offsetIndex!.entry(s.offsetIndex!.count - 1).relativeOffset
                if lastRel == nil || rel > lastRel! {
                    s.offsetIndex!.append(relativeOffset: rel, position: UInt32(position))
                }
                s.bytesSinceIndexEntry = 0
            }
            if ts > s.maxTimestamp {
                s.maxTimestamp = ts
                if s.timeIndex == nil { s.timeIndex = TimeIndex() }
                let lastRel = s.timeIndex!.relativeOffsets.last
                if lastRel == nil || rel > lastRel! {
                    s.timeIndex!.append(timestamp: ts, relativeOffset: rel)
                }
            }
        }
    }

    /// Appends index entries not yet in the index files (not synced: indexes are rebuilt after a crash).
    ///
    /// When a write fails, the entries it was to write count as not written, so the next
    /// flush writes them again (the writer's only; readers never flush).
    func flushIndexes() throws(LogError) {
        let (offsetBytes, offsetAt, timeBytes, timeAt) = state.withLock { s -> ([UInt8], Int, [UInt8], Int) in
            let ob = s.offsetIndex.map { $0.encoded(from: s.offsetEntriesOnDisk) } ?? []
            let tb = s.timeIndex.map { $0.encoded(from: s.timeEntriesOnDisk) } ?? []
            return (ob, s.offsetEntriesOnDisk, tb, s.timeEntriesOnDisk)
        }
        if offsetBytes.isEmpty && timeBytes.isEmpty { return }
        let files = try openIndexFiles()
        if !offsetBytes.isEmpty { try files.offsets.write(offsetBytes, at: Int64(offsetAt * OffsetIndex.entrySize)) }
        CrashPoints.hit("index.flushed")
        if !timeBytes.isEmpty { try files.times.write(timeBytes, at: Int64(timeAt * TimeIndex.entrySize)) }
        state.withLock { s in
            s.offsetEntriesOnDisk = offsetAt + offsetBytes.count / OffsetIndex.entrySize
            s.timeEntriesOnDisk = timeAt + timeBytes.count / TimeIndex.entrySize
        }
    }

    private func openIndexFiles() throws(LogError) -> (offsets: FileHandle, times: FileHandle) {
        if let files = indexFiles.withLock({ $0 }) { return files }
        let files = (offsets: try FileHandle.open(paths.index, create: true, faults: faults),
                     times: try FileHandle.open(paths.timeIndex, create: true, faults: faults))
        indexFiles.withLock { $0 = files }
        return files
    }

    /// Closes the index files the writer kept open (the segment was sealed).
    func closeIndexFiles() {
        indexFiles.withLock { $0 = nil }
    }

    /// Starts writeback of what was written since the last call once that reaches `every`
    /// bytes. Without it nothing reaches the disk until a sync or the kernel's dirty limits,
    /// and the sync at close or roll then writes everything at once; with it the disk works
    /// while appenders copy into the page cache (RocksDB's `bytes_per_sync`).
    func startWritebackIfDue(every: Int64) {
        let range = state.withLock { s -> (from: Int64, length: Int64)? in
            guard s.size - s.writebackFrom >= every else { return nil }
            defer { s.writebackFrom = s.size }
            return (s.writebackFrom, s.size - s.writebackFrom)
        }
        if let range { log.startWriteback(from: range.from, length: range.length) }
    }

    /// Rewrites both index files from memory and syncs them (at roll, close and after recovery).
    func writeIndexesCompletely(sync: Bool) throws(LogError) {
        let (ob, tb) = state.withLock { s -> ([UInt8], [UInt8]) in
            let r = (s.offsetIndex?.encoded() ?? [], s.timeIndex?.encoded() ?? [])
            s.offsetEntriesOnDisk = s.offsetIndex?.count ?? 0
            s.timeEntriesOnDisk = s.timeIndex?.count ?? 0
            return r
        }
        for (path, bytes) in [(paths.index, ob), (paths.timeIndex, tb)] {
            let f = try FileHandle.open(path, create: true, faults: faults)
            try f.truncate(to: 0)
            try f.write(bytes, at: 0)
            if sync { try f.sync() }
        }
    }

    /// Cuts the segment back to `size` bytes (a torn tail found by recovery, a group whose
    /// sync failed); `maxTimestamp` `nil` keeps the known one (an upper bound, still true).
    func truncate(toSize size: Int64, nextOffset: Int64, maxTimestamp: Int64?) throws(LogError) {
        try log.truncate(to: size)
        state.withLock { s in
            s.size = size
            s.writebackFrom = min(s.writebackFrom, size)
            s.visibleSize = min(s.visibleSize, size)
            s.nextOffset = nextOffset
            s.visibleNextOffset = min(s.visibleNextOffset, nextOffset)
            if let maxTimestamp { s.maxTimestamp = maxTimestamp }
            if size == 0 { s.firstTimestamp = nil; s.maxTimestamp = .min }
            let rel = UInt32(clamping: max(0, nextOffset - paths.baseOffset))
            s.offsetIndex?.truncate(relativeOffsetAtLeast: rel, positionAtLeast: UInt32(clamping: size))
            s.timeIndex?.truncate(relativeOffsetAtLeast: rel)
            s.offsetEntriesOnDisk = min(s.offsetEntriesOnDisk, s.offsetIndex?.count ?? 0)
            s.timeEntriesOnDisk = min(s.timeEntriesOnDisk, s.timeIndex?.count ?? 0)
        }
    }

    /// Cuts off what was written but never published (a group whose sync failed): the file,
    /// the writer's view and the in-memory index entries go back to what readers can see.
    func discardUnpublished() throws(LogError) {
        let (visibleSize, visibleNext) = state.withLock { ($0.visibleSize, $0.visibleNextOffset) }
        try truncate(toSize: visibleSize, nextOffset: visibleNext, maxTimestamp: nil)
    }

    /// Marks the in-memory indexes as already written to their files.
    func markIndexesOnDisk() {
        state.withLock { s in
            s.offsetEntriesOnDisk = s.offsetIndex?.count ?? 0
            s.timeEntriesOnDisk = s.timeIndex?.count ?? 0
        }
    }

    /// Sets the facts a recovery or an open established.
    func setFacts(nextOffset: Int64, maxTimestamp: Int64) {
        state.withLock { s in
            s.nextOffset = nextOffset
            s.visibleNextOffset = nextOffset
            s.maxTimestamp = maxTimestamp
        }
    }

    /// The largest timestamp in the segment, loading the time index when it is not known yet.
    func loadedMaxTimestamp() throws(LogError) -> Int64 {
        try ensureIndexesLoaded()
        return maxTimestamp
    }

    /// Replaces the in-memory indexes (after a recovery scan rebuilt them).
    func installIndexes(_ offsetIndex: OffsetIndex, _ timeIndex: TimeIndex, bytesSinceIndexEntry: Int) {
        state.withLock { s in
            s.offsetIndex = offsetIndex
            s.timeIndex = timeIndex
            s.offsetEntriesOnDisk = 0
            s.timeEntriesOnDisk = 0
            s.bytesSinceIndexEntry = bytesSinceIndexEntry
        }
    }

    /// Marks the segment's files as deleted, before they are unlinked: a reader that loads
    /// the indexes afterwards rebuilds them from the open log file and writes nothing (the
    /// names may by then belong to another segment, or to nothing). Waits for a reader
    /// writing them now.
    func retireFiles() {
        filesRetired.withLock { $0 = true }
    }

    // MARK: Reading

    /// Whether both indexes are in memory (else the first lookup loads them from their files).
    private var indexesLoaded: Bool { state.withLock { $0.offsetIndex != nil && $0.timeIndex != nil } }

    /// Loads the index files on first use; an unreadable or inconsistent index is rebuilt by a
    /// scan (and written back, unless the segment's files were deleted meanwhile).
    private func ensureIndexesLoaded() throws(LogError) {
        if indexesLoaded { return }
        try filesRetired.withLock { retired throws(LogError) in try loadIndexes(filesRetired: retired) }
    }

    private func loadIndexes(filesRetired retired: Bool) throws(LogError) {
        let size = visibleSize
        let offsetBytes = retired ? nil : (try? FileSystem.readFile(paths.index)) ?? nil
        let timeBytes = retired ? nil : (try? FileSystem.readFile(paths.timeIndex)) ?? nil
        var offsetIndex = OffsetIndex(parsing: offsetBytes ?? [], logSize: size)
        var timeIndex = TimeIndex(parsing: timeBytes ?? [])
        let consistent = offsetBytes != nil && timeBytes != nil
            && offsetIndex.count * OffsetIndex.entrySize == offsetBytes!.count
            && timeIndex.count * TimeIndex.entrySize == timeBytes!.count
        if !consistent {
            (offsetIndex, timeIndex) = try rebuildIndexes(interval: 4096, upTo: size)
        }
        state.withLock { s in
            if s.maxTimestamp == .min, let last = timeIndex.lastTimestamp { s.maxTimestamp = last }
            if s.offsetIndex == nil { s.offsetIndex = offsetIndex; s.offsetEntriesOnDisk = offsetIndex.count }
            if s.timeIndex == nil { s.timeIndex = timeIndex; s.timeEntriesOnDisk = timeIndex.count }
        }
        if !consistent && !retired { try? writeIndexesCompletely(sync: false) }
    }

    /// Scans the log and computes both indexes (an index file missing or damaged).
    func rebuildIndexes(interval: Int, upTo size: Int64) throws(LogError) -> (OffsetIndex, TimeIndex) {
        var offsetIndex = OffsetIndex()
        var timeIndex = TimeIndex()
        var sinceEntry = 0
        var maxTs = Int64.min
        var scanner = BatchScanner(file: log, start: 0, end: size)
        // Damage ends the index there: reads that reach it report it with its position.
        while let (position, header) = (try? scanner.nextHeader()) ?? nil {
            let rel = UInt32(header.baseOffset - paths.baseOffset)
            sinceEntry += header.totalSize
            if sinceEntry >= interval || offsetIndex.isEmpty && position > 0 {
                offsetIndex.append(relativeOffset: rel, position: UInt32(position))
                sinceEntry = 0
            }
            if header.maxTimestamp > maxTs {
                maxTs = header.maxTimestamp
                timeIndex.append(timestamp: maxTs, relativeOffset: rel)
            }
        }
        return (offsetIndex, timeIndex)
    }

    /// Extends indexes read from their files up to `size` by scanning batch headers from the
    /// last offset-index entry on. Normally that is a batch or two; but index entries are not
    /// synced with the data, so after a power loss the files can end well before the recovery
    /// checkpoint, and without this the gap would stay unindexed (reads in it scanning far more
    /// than one interval). Damage ends the scan, as in ``rebuildIndexes(interval:upTo:)``.
    ///
    /// The time index is written after the offset index (``flushIndexes()``), so a crash can
    /// leave it further behind: the scan then starts at the batch of its last entry instead,
    /// so that the entries it adds carry the segment's true running maximum (an entry with a
    /// smaller timestamp than an earlier batch's would make lookups by time skip records).
    func completeIndexes(_ offsetIndex: inout OffsetIndex, _ timeIndex: inout TimeIndex, interval: Int, upTo size: Int64) {
        let offsetsFrom = offsetIndex.isEmpty ? 0 : Int64(offsetIndex.entry(offsetIndex.count - 1).position)
        let lastTimeRel = timeIndex.relativeOffsets.last
        let timesFrom = lastTimeRel.map { Int64(offsetIndex.floorAndNextPosition(for: $0).floor.position) } ?? 0
        var sinceEntry = 0
        var maxTs = timeIndex.lastTimestamp ?? .min
        var scanner = BatchScanner(file: log, start: min(offsetsFrom, timesFrom), end: size)
        let hadOffsetEntries = !offsetIndex.isEmpty
        while let (position, header) = (try? scanner.nextHeader()) ?? nil {
            let rel = UInt32(header.baseOffset - paths.baseOffset)
            // Batches before the last offset entry are indexed there already, and so is the
            // batch at it; counting restarts after it.
            if !hadOffsetEntries || position > offsetsFrom {
                sinceEntry += header.totalSize
                if sinceEntry >= interval || offsetIndex.isEmpty && position > 0 {
                    offsetIndex.append(relativeOffset: rel, position: UInt32(position))
                    sinceEntry = 0
                }
            }
            if header.maxTimestamp > maxTs {
                maxTs = header.maxTimestamp
                if lastTimeRel.map({ rel > $0 }) ?? true {
                    timeIndex.append(timestamp: maxTs, relativeOffset: rel)
                }
            }
        }
    }

    /// The byte position from which to scan for `offset`.
    func position(forOffset offset: Int64) throws(LogError) -> Int64 {
        try floorEntry(forOffset: offset).position
    }

    /// The index entry to scan from for `offset`: the byte position of a batch and that
    /// batch's base offset (the segment's base offset for position 0).
    func floorEntry(forOffset offset: Int64) throws(LogError) -> (baseOffset: Int64, position: Int64) {
        let e = try indexRange(forOffset: offset)
        return (e.baseOffset, e.position)
    }

    /// The floor entry for `offset` and the position of the next index entry, if any: the
    /// batch holding `offset` starts at or after `position` and ends at or before `nextPosition`.
    ///
    /// With `mode` `.cachedOnly`, throws ``LogError/wouldBlock`` when the indexes are not
    /// loaded yet (loading reads their files) rather than loading them.
    func indexRange(forOffset offset: Int64, mode: FileHandle.ReadMode = .blocking) throws(LogError) -> (baseOffset: Int64, position: Int64, nextPosition: Int64?) {
        switch mode {
        case .blocking: try ensureIndexesLoaded()
        case .cachedOnly: guard indexesLoaded else { throw LogError.wouldBlock }
        }
        let rel = UInt32(clamping: max(0, offset - paths.baseOffset))
        let (floor, next) = state.withLock { $0.offsetIndex!.floorAndNextPosition(for: rel) }
        return (paths.baseOffset + Int64(floor.relativeOffset), Int64(floor.position), next.map { Int64($0) })
    }

    /// The byte position from which to scan for the first record at or after `timestamp`.
    func position(forTimestamp timestamp: Int64) throws(LogError) -> Int64 {
        try ensureIndexesLoaded()
        let rel = state.withLock { $0.timeIndex!.floorRelativeOffset(for: timestamp) }
        return try position(forOffset: paths.baseOffset + Int64(rel))
    }

    /// The index entries, for tools and tests.
    func indexSnapshot() throws(LogError) -> (OffsetIndex, TimeIndex) {
        try ensureIndexesLoaded()
        return state.withLock { ($0.offsetIndex!, $0.timeIndex!) }
    }
}
