extension Partition {
    // MARK: Making a group durable and visible (the writer only)

    /// `fdatasync(2)`s the active segment, then acknowledges the group and makes it visible.
    ///
    /// When the sync fails (or failed earlier), nothing written since the last successful
    /// sync is acknowledged: the batches of the group fail, except those a roll in this
    /// group already made durable; the unsynced bytes are cut off the file so that a reopen
    /// cannot bring them back, and the partition refuses writes.
    func syncAndPublish(_ run: inout GroupRun) {
        guard run.writtenCount > 0 else {
            run.settle(acknowledgedEnd: .min, failure: nil)
            return
        }
        let (segment, size, next, producers, earlier) = state.withLock { s in
            (s.segments.last!, s.writtenPosition, s.nextOffset, s.producers, s.writeFailure)
        }
        var failure = earlier
        if failure == nil {
            do {
                try segment.log.sync()
            } catch {
                failure = refuseWrites(after: error)
            }
        }
        if let failure {
            abandonUnpublished(&run, failure)
            return
        }
        CrashPoints.hit("append.synced")
        let ready = state.withLock { s -> [Wakeup] in
            s.durable = RecoveryCheckpoint(segmentBase: segment.baseOffset, position: size, nextOffset: next, producers: producers)
            if s.nextOffset == next { s.dirty = false }
            s.lastSyncMs = clock.now()
            s.statistics.syncs += 1
            s.statistics.batchesSynced += Int64(run.writtenCount)
            return Partition.takeReadyWaiters(&s)
        }
        run.settle(acknowledgedEnd: next, failure: nil)
        for c in ready { c.resume(returning: true) }
        publishWritten(segment)
    }

    /// Acknowledges and publishes a written group without syncing (`interval` and `none`
    /// durability) — unless the partition refuses writes, when it is abandoned instead.
    func publish(_ run: inout GroupRun) {
        let (segment, next, failure) = state.withLock { s in (s.segments.last!, s.nextOffset, s.writeFailure) }
        if let failure {
            abandonUnpublished(&run, failure)
            return
        }
        run.settle(acknowledgedEnd: next, failure: nil)
        publishWritten(segment)
    }

    /// Makes everything written visible and wakes the readers waiting for it.
    private func publishWritten(_ segment: Segment) {
        segment.publish()
        let ready = state.withLock { s -> [Wakeup] in
            s.visibleEnd = s.nextOffset
            return Partition.takeReadyWaiters(&s)
        }
        for c in ready { c.resume(returning: true) }
    }

    /// Fails what the group wrote past the visible end and cuts those bytes off the active
    /// segment (best effort: the partition refuses writes already, and recovery starts from
    /// the last durable checkpoint whatever the file holds).
    private func abandonUnpublished(_ run: inout GroupRun, _ failure: LogError) {
        let (segment, visible) = state.withLock { s in (s.segments.last!, s.visibleEnd) }
        run.settle(acknowledgedEnd: visible, failure: failure)
        do {
            try segment.discardUnpublished()
        } catch {
            logger.error("could not cut unacknowledged bytes off the log; the next open cuts them", metadata: ["error": "\(error)"])
        }
        state.withLock { s in
            s.nextOffset = s.visibleEnd
            s.writtenPosition = segment.size
            s.producers.truncate(atOffset: s.visibleEnd)
        }
    }

    /// Makes the partition refuse writes from now on: a sync of its files failed, or a failed
    /// write could not be cut back. Returns the error appends get (``writeFailure``).
    ///
    /// PostgreSQL's lesson of 2018 ("fsyncgate"): after a failed `fdatasync(2)` the kernel may
    /// have dropped the dirty pages and marked them clean, so a later sync that succeeds
    /// proves nothing about the bytes written before the failure. Only a reopen, which
    /// recovers from the last successful sync, makes the partition writable again.
    @discardableResult
    func refuseWrites(after cause: LogError) -> LogError {
        let what = (cause.cause as? SystemError).map { "\($0.call)(2) failed (\(errorString($0.rawValue)))" } ?? cause.message
        let refusal = LogError(
            .readOnly,
            "partition \(topicName)/\(index) refuses writes: \(what); what it wrote after its last successful sync cannot be trusted, so it stays read-only until the store is reopened.",
            cause: cause)
        let first = state.withLock { s -> Bool in
            guard s.writeFailure == nil else { return false }
            s.writeFailure = refusal
            return true
        }
        if first {
            logger.critical("partition refuses writes after a storage failure", metadata: ["error": "\(cause)"])
        }
        return state.withLock { $0.writeFailure! }
    }

    /// Seals the active segment (synced, indexes written) and starts a new one at `nextOffset`.
    ///
    /// A failed sync of the sealed segment, its indexes or the directory makes the partition
    /// refuse writes; a new segment file that cannot be created fails only this append.
    func roll(from active: Segment, nextOffset: Int64) throws(LogError) -> Segment {
        do {
            try active.log.sync()
            try active.writeIndexesCompletely(sync: true)
        } catch {
            throw refuseWrites(after: error)
        }
        active.closeIndexFiles()
        active.publish()
        CrashPoints.hit("roll.sealed")
        let fresh = try Segment.create(directory: directory, baseOffset: nextOffset, faults: faults)
        CrashPoints.hit("roll.created")
        do {
            try FileSystem.syncDirectory(directory, faults: faults)
        } catch {
            throw refuseWrites(after: error)
        }
        let ready = state.withLock { s -> [Wakeup] in
            s.segments.append(fresh)
            s.writtenPosition = 0
            // Everything in the sealed segment is durable now; appends of this group that
            // follow the roll are not written yet, so their producer records are left out.
            s.durable = RecoveryCheckpoint(segmentBase: fresh.baseOffset, position: 0, nextOffset: nextOffset,
                                           producers: s.producers.truncated(atOffset: nextOffset))
            s.visibleEnd = max(s.visibleEnd, active.nextOffset)
            return Partition.takeReadyWaiters(&s)
        }
        for c in ready { c.resume(returning: true) }
        logger.debug("rolled segment", metadata: ["base": "\(nextOffset)"])
        return fresh
    }

    // MARK: Syncing outside the append path

    /// Syncs the active segment now and records the durable point (the `interval` flusher).
    ///
    /// A failed sync makes the partition refuse writes: it is never retried, because a later
    /// success would not prove that the bytes of the failed one reached the disk.
    func syncNow() throws(LogError) {
        // One consistent view: the bytes written and the offset after them move together.
        let (segment, size, next, producers, dirty, failed) = state.withLock { s in
            (s.segments.last!, s.writtenPosition, s.nextOffset, s.producers, s.dirty, s.writeFailure != nil)
        }
        guard dirty, !failed else { return }
        do {
            try segment.log.sync()
        } catch {
            throw refuseWrites(after: error)
        }
        // An inline writer may have recorded producers for batches it has not written yet.
        let asOfNext = producers.truncated(atOffset: next)
        state.withLock { s in
            if s.segments.last === segment && s.writeFailure == nil {
                s.durable = RecoveryCheckpoint(segmentBase: segment.baseOffset, position: size, nextOffset: next, producers: asOfNext)
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
        try FileSystem.writeAtomically(directory + "/" + RecoveryCheckpoint.fileName, durable.encoded(), directory: directory, faults: faults,
                                       crashPoints: .checkpoint)
        state.withLock {
            $0.lastCheckpoint = durable
            $0.lastCheckpointWriteMs = now
        }
    }

    /// Whether the periodic flusher should sync this partition now.
    func syncDue(now: Int64) -> Bool {
        let durability = configuration.durability
        return state.withLock { s in
            guard s.dirty, !s.closed, s.writeFailure == nil else { return false }
            switch durability {
            case .fsync: return false
            case .interval(let period): return now - s.lastSyncMs >= period.wholeMilliseconds
            case .none: return now - s.lastSyncMs >= 30_000
            }
        }
    }
}
