import Logging

extension Partition {
    /// Opens a partition directory, recovering it when the store was not shut down cleanly.
    ///
    /// After a clean shutdown nothing is scanned: the recovery checkpoint names the end of
    /// the log. After a crash, the log is scanned from the checkpoint on (only what may not
    /// have been synced), each batch's framing and CRC32C checked; a torn or corrupt tail
    /// of the newest segment is cut off, indexes are rebuilt for what was scanned, and
    /// damage in an older segment is recorded and reported on read instead of truncating.
    static func open(topicName: String, index: Int, directory: String, configuration: LiveConfiguration,
                     executor: IOExecutor, logger: Logger, faults: FaultInjector?, clock: Clock,
                     cleanShutdown: Bool) throws(LogError) -> Partition {
        try FileSystem.createDirectory(directory, faults: faults)
        do { try recoverInterruptedSwaps(directory: directory, logger: logger) } catch let e as LogError { throw e } catch {
            throw LogError(.ioError, "\(directory): could not finish an interrupted compaction: \(error)")
        }
        var bases: [Int64] = []
        var indexFiles: [(name: String, base: Int64)] = []
        for name in try FileSystem.list(directory) {
            if name.hasSuffix(".tmp") {
                try FileSystem.remove(directory + "/" + name)
            } else if let base = SegmentPaths.baseOffset(ofLogFile: name) {
                bases.append(base)
            } else if let base = SegmentPaths.baseOffset(ofIndexFile: name) {
                indexFiles.append((name, base))
            }
        }
        // The indexes of a segment whose log is gone: a retention pass died between the
        // unlinks of its files. Nothing reads them; without this they would stay forever.
        let logs = Set(bases)
        for file in indexFiles where !logs.contains(file.base) {
            logger.info("removing the index of a deleted segment", metadata: ["file": "\(file.name)"])
            try FileSystem.remove(directory + "/" + file.name)
        }
        bases.sort()
        let checkpoint = (try? FileSystem.readFile(directory + "/" + RecoveryCheckpoint.fileName))
            .flatMap { $0 }.flatMap(RecoveryCheckpoint.decode)

        if bases.isEmpty {
            let base = checkpoint?.nextOffset ?? 0
            let segment = try Segment.create(directory: directory, baseOffset: base, faults: faults)
            try FileSystem.syncDirectory(directory, faults: faults)
            let durable = RecoveryCheckpoint(segmentBase: base, position: 0, nextOffset: base, producers: checkpoint?.producers ?? .init())
            let state = State(segments: [segment], startOffset: base, nextOffset: base, writtenPosition: 0, visibleEnd: base, durable: durable)
            let p = Partition(topicName: topicName, index: index, directory: directory, configuration: configuration,
                              executor: executor, logger: logger, faults: faults, clock: clock, state: state)
            try p.writeCheckpointIfChanged()
            return p
        }

        // Sealed segments: trusted (synced when they were rolled); their end is the next one's base.
        var segments: [Segment] = []
        for (i, base) in bases.enumerated() {
            let paths = SegmentPaths(directory: directory, baseOffset: base)
            let log = try FileHandle.open(paths.log, faults: faults)
            let size = try log.size()
            let next = i + 1 < bases.count ? bases[i + 1] : base
            let segment = Segment(paths: paths, log: log, size: size, nextOffset: next, maxTimestamp: .min,
                                  firstTimestamp: nil, faults: faults)
            segments.append(segment)
        }
        let active = segments.last!
        let activeSize = active.size

        var producers = ProducerStateTable()
        var nextOffset: Int64
        let cleanCheckpoint = checkpoint.flatMap { cp in
            cleanShutdown && cp.segmentBase == active.baseOffset && cp.position == activeSize ? cp : nil
        }
        if let cp = cleanCheckpoint {
            nextOffset = cp.nextOffset
            producers = cp.producers.truncated(atOffset: cp.nextOffset)
            let (oi, ti) = try loadOrRebuildIndexes(active, interval: configuration.indexIntervalBytes, size: activeSize)
            active.installIndexes(oi, ti, bytesSinceIndexEntry: bytesSinceLastEntry(oi, size: activeSize))
            active.setFacts(nextOffset: nextOffset, maxTimestamp: ti.lastTimestamp ?? .min)
        } else {
            // Crash recovery: from the checkpoint when it is usable, else from the first segment.
            var firstIndex = 0
            var position: Int64 = 0
            var expected = segments[0].baseOffset
            if let cp = checkpoint, let k = segments.firstIndex(where: { $0.baseOffset == cp.segmentBase }),
               cp.position <= segments[k].size {
                firstIndex = k
                position = cp.position
                expected = cp.nextOffset
                // Only what the checkpoint covers: batches after it are re-read from the log
                // below (a checkpoint written by an older version may name unwritten ones).
                producers = cp.producers.truncated(atOffset: cp.nextOffset)
            }
            logger.info("recovering after an unclean shutdown", metadata: [
                "from_segment": "\(segments[firstIndex].baseOffset)", "from_position": "\(position)",
                "bytes_to_scan": "\(segments[firstIndex...].reduce(0) { $0 + $1.size } - position)",
            ])
            nextOffset = expected
            for k in firstIndex..<segments.count {
                let segment = segments[k]
                let isLast = k == segments.count - 1
                let scanFrom = k == firstIndex ? position : 0
                if k > firstIndex { nextOffset = max(nextOffset, segment.baseOffset) }
                var (oi, ti) = scanFrom == 0
                    ? (OffsetIndex(), TimeIndex())
                    : try loadIndexesForRecovery(segment, interval: configuration.indexIntervalBytes, size: scanFrom)
                oi.truncate(positionAtLeast: UInt32(clamping: scanFrom))
                ti.truncate(relativeOffsetAtLeast: UInt32(clamping: max(0, nextOffset - segment.baseOffset)))
                var sinceEntry = bytesSinceLastEntry(oi, size: scanFrom)
                var maxTs = ti.lastTimestamp ?? .min
                var scanner = BatchScanner(file: segment.log, start: scanFrom, end: segment.size)
                var failure: LogError?
                while true {
                    let at = scanner.position
                    do {
                        let more = try scanner.nextBatch(verify: true) { pos, h, _ -> Bool in
                            guard h.baseOffset >= nextOffset, h.baseOffset >= segment.baseOffset,
                                  h.lastOffset - segment.baseOffset <= Int64(UInt32.max) else {
                                throw LogError(.corruptData, "\(segment.paths.log) at byte \(pos): batch offsets \(h.baseOffset)...\(h.lastOffset) go backwards (expected \(nextOffset) or more).")
                            }
                            let rel = UInt32(h.baseOffset - segment.baseOffset)
                            sinceEntry += h.totalSize
                            if sinceEntry >= configuration.indexIntervalBytes || oi.isEmpty && pos > 0 {
                                oi.append(relativeOffset: rel, position: UInt32(pos))
                                sinceEntry = 0
                            }
                            if h.maxTimestamp > maxTs {
                                maxTs = h.maxTimestamp
                                ti.append(timestamp: maxTs, relativeOffset: rel)
                            }
                            if h.producerID >= 0 {
                                producers.record(ProducerStamp(producerID: h.producerID, epoch: h.producerEpoch, baseSequence: h.baseSequence),
                                                 count: Int(h.recordCount), firstOffset: h.baseOffset)
                            }
                            nextOffset = h.nextOffset
                            return true
                        }
                        if more == nil { break }
                    } catch let error as LogError {
                        failure = error
                        scanner.seek(to: at)
                        break
                    } catch {
                        failure = LogError(.corruptData, "\(error)")
                        break
                    }
                }
                if let failure {
                    if isLast {
                        logger.warning("cut a torn or corrupt tail", metadata: [
                            "file": "\(segment.paths.log)", "position": "\(scanner.position)",
                            "bytes_removed": "\(segment.size - scanner.position)", "reason": "\(failure.message)",
                        ])
                        try segment.truncate(toSize: scanner.position, nextOffset: nextOffset, maxTimestamp: maxTs)
                    } else {
                        let end = segments[k + 1].baseOffset
                        // Not cut: reads that reach it report it with its range (Partition+Read).
                        logger.error("a sealed segment is damaged; its tail is unreadable", metadata: [
                            "file": "\(segment.paths.log)", "position": "\(scanner.position)",
                            "offsets": "\(nextOffset)..<\(end)", "reason": "\(failure.message)",
                        ])
                    }
                }
                // What was scanned may never have been synced (the process died before its
                // writer or flusher synced it): sync it before anyone can read it, so that no
                // reader sees a record that a power loss could still take back.
                try segment.log.sync()
                segment.installIndexes(oi, ti, bytesSinceIndexEntry: sinceEntry)
                segment.setFacts(nextOffset: isLast ? nextOffset : segments[k + 1].baseOffset, maxTimestamp: maxTs)
                try segment.writeIndexesCompletely(sync: true)
            }
        }

        let durable = RecoveryCheckpoint(segmentBase: active.baseOffset, position: active.size, nextOffset: nextOffset, producers: producers)
        var state = State(segments: segments, startOffset: segments[0].baseOffset, nextOffset: nextOffset,
                          writtenPosition: active.size, visibleEnd: nextOffset, durable: durable)
        state.producers = producers
        state.lastSyncMs = clock.now()
        // After a clean shutdown the checkpoint on disk already says all this: not written
        // again (one atomic write, three syncs, per partition at every start otherwise).
        state.lastCheckpoint = cleanCheckpoint
        let partition = Partition(topicName: topicName, index: index, directory: directory, configuration: configuration,
                                  executor: executor, logger: logger, faults: faults, clock: clock, state: state)
        partition.loadCleanerCheckpoint()
        try partition.writeCheckpointIfChanged()
        return partition
    }

    static func bytesSinceLastEntry(_ index: OffsetIndex, size: Int64) -> Int {
        guard index.count > 0 else { return Int(size) }
        return Int(size - Int64(index.entry(index.count - 1).position))
    }

    /// The index entries below the recovery point: those the files hold (entries past it,
    /// written after the last checkpoint, are dropped and rebuilt by the recovery scan), then
    /// any the files lost before it (after a power loss) from a scan of batch headers from
    /// their last entry. Missing files are rebuilt whole. Either way a crash costs time in the
    /// tail and in what the index files lost, not in the log's size.
    static func loadIndexesForRecovery(_ segment: Segment, interval: Int, size: Int64) throws(LogError) -> (OffsetIndex, TimeIndex) {
        let ob = (try? FileSystem.readFile(segment.paths.index)) ?? nil
        let tb = (try? FileSystem.readFile(segment.paths.timeIndex)) ?? nil
        guard let ob, let tb else { return try segment.rebuildIndexes(interval: interval, upTo: size) }
        var (oi, ti) = (OffsetIndex(parsing: ob, logSize: size), TimeIndex(parsing: tb))
        segment.completeIndexes(&oi, &ti, interval: interval, upTo: size)
        return (oi, ti)
    }

    /// Reads a segment's index files, rebuilding them by a scan when missing or inconsistent.
    static func loadOrRebuildIndexes(_ segment: Segment, interval: Int, size: Int64) throws(LogError) -> (OffsetIndex, TimeIndex) {
        let ob = (try? FileSystem.readFile(segment.paths.index)) ?? nil
        let tb = (try? FileSystem.readFile(segment.paths.timeIndex)) ?? nil
        if let ob, let tb {
            let oi = OffsetIndex(parsing: ob, logSize: size)
            let ti = TimeIndex(parsing: tb)
            if oi.count * OffsetIndex.entrySize == ob.count && ti.count * TimeIndex.entrySize == tb.count {
                return (oi, ti)
            }
        }
        return try segment.rebuildIndexes(interval: interval, upTo: size)
    }
}

