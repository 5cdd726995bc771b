extension Partition {
    /// Deletes whole closed segments past the topic's `retentionMs` or `retentionBytes`,
    /// oldest first, and moves the start offset forward. The active segment is never deleted.
    ///
    /// Readers inside a deleted segment finish it: its file stays open until they let go.
    /// Does nothing for topics without `delete` in their cleanup policy.
    ///
    /// Runs on the store's maintenance thread, never on the threads appends use; a call made
    /// while another is waiting to start shares that pass and its report.
    /// - Throws: ``LogError/Code/closed`` when the partition closes (its topic is deleted)
    ///   first, or an I/O error.
    public func applyRetention() async throws -> RetentionReport {
        guard case .retention(let report) = try await requestPass(.retention, { .retention(try self.applyRetentionBlocking(now: self.clock.now())) }) else {
            preconditionFailure("a retention request answered by another kind of pass")
        }
        return report
    }

    /// The cleaner's state: last runs, bytes read and written, the dirty boundary.
    public var cleanerState: CleanerState { maintenance.withLock { $0 } }

    /// One retention pass, on the maintenance lane (see ``exclusivePass(_:)``).
    func applyRetentionBlocking(now: Int64) throws -> RetentionReport {
        try exclusivePass {
            let report = try deleteExpiredSegments(now: now)
            maintenance.withLock { cleaner in
                cleaner.lastRetention = report
                cleaner.lastRetentionAt = now
            }
            return report
        }
    }

    private func deleteExpiredSegments(now: Int64) throws -> RetentionReport {
        let segments = state.withLock { $0.segments }
        let start = Offset(segments[0].baseOffset)
        // The settings as the pass starts: an alter made meanwhile applies from the next one.
        let settings = configuration.current
        guard settings.cleanupPolicy.contains(.delete), settings.retentionMs >= 0 || settings.retentionBytes >= 0 else {
            return RetentionReport(segmentsDeleted: 0, bytesDeleted: 0, startOffset: state.withLock { Offset($0.startOffset) })
        }
        var total = segments.reduce(Int64(0)) { $0 + $1.size }
        var doomed: [Segment] = []
        for segment in segments.dropLast() {
            let byTime = try settings.retentionMs >= 0 && segment.loadedMaxTimestamp() < now - settings.retentionMs
            let bySize = settings.retentionBytes >= 0 && total - segment.size >= settings.retentionBytes
            guard byTime || bySize else { break }
            doomed.append(segment)
            total -= segment.size
        }
        guard !doomed.isEmpty else {
            return RetentionReport(segmentsDeleted: 0, bytesDeleted: 0, startOffset: start)
        }
        let newStart = state.withLock { s -> Int64 in
            s.segments.removeFirst(doomed.count)
            s.startOffset = max(s.startOffset, s.segments[0].baseOffset)
            return s.startOffset
        }
        for segment in doomed {
            // A reader still inside it must not write its index files back (Segment.retireFiles()).
            segment.retireFiles()
            try FileSystem.remove(segment.paths.log)
            CrashPoints.hit("retention.log-removed")
            try FileSystem.remove(segment.paths.index)
            try FileSystem.remove(segment.paths.timeIndex)
        }
        CrashPoints.hit("retention.removed")
        try FileSystem.syncDirectory(directory)
        let bytes = doomed.reduce(Int64(0)) { $0 + $1.size }
        logger.info("retention deleted segments", metadata: ["segments": "\(doomed.count)", "bytes": "\(bytes)", "start_offset": "\(newStart)"])
        return RetentionReport(segmentsDeleted: doomed.count, bytesDeleted: bytes, startOffset: Offset(newStart))
    }
}
