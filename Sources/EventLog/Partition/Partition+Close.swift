extension Partition {
    /// Stops appends, waits for queued ones, syncs data and indexes, writes the checkpoint.
    ///
    /// Appends still queued when it is called are written (they were accepted); later ones
    /// fail with ``LogError/Code/closed``. Waiting readers are woken and end. Queued
    /// retention and compaction requests fail with ``LogError/Code/closed``; a running pass
    /// stops at its next step and is waited for.
    func close() async throws {
        let ready = state.withLock { s -> [Wakeup] in
            s.closed = true
            return Partition.takeReadyWaiters(&s)
        }
        for c in ready { c.resume(returning: false) }
        await retireMaintenance()
        await writerIdle()
        try await executor.run { try self.flushForClose() }
    }

    /// Closes the partition of a topic being deleted: nothing more is acknowledged.
    ///
    /// Appends not yet taken by the writer fail with ``LogError/Code/topicNotFound`` (never
    /// acknowledged into files about to be unlinked); later ones fail with
    /// ``LogError/Code/closed``. Returns once the writer and any maintenance pass have
    /// stopped, and marks every segment's files deleted, so that no reader writes index
    /// files under the topic's path again (a topic of the same name may be created there).
    func closeForDeletion() async {
        let (ready, dropped) = state.withLock { s -> ([Wakeup], [PendingAppend]) in
            s.closed = true
            return (Partition.takeReadyWaiters(&s), s.takePending())
        }
        for c in ready { c.resume(returning: false) }
        let deleted = LogError(.topicNotFound, "topic \(topicName) was deleted before this append was written.")
        for p in dropped { p.continuation?.resume(throwing: deleted) }
        await retireMaintenance()
        await writerIdle()
        for segment in state.withLock({ $0.segments }) { segment.retireFiles() }
    }

    /// Closes a partition that was opened but never published (a topic's growth failed before
    /// its commit point): nothing was appended to it and no one reads it; its files, about to
    /// be removed, are marked deleted and their handles close with it.
    func closeAbandoned() {
        state.withLock { $0.closed = true }
        for segment in state.withLock({ $0.segments }) { segment.retireFiles() }
    }

    /// Returns once no writer runs and nothing is queued (the writer resumes us).
    private func writerIdle() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s -> Bool in
                if !s.writerScheduled && s.pending.isEmpty { return true }
                s.drainWaiters.append(c)
                return false
            }
            if idle { c.resume() }
        }
    }

    /// Syncs everything and records the end of the log (no writer may run).
    ///
    /// A partition that refuses writes throws its ``writeFailure`` instead: its checkpoint
    /// keeps the last successful sync, and the store is not marked clean, so the next open
    /// recovers from there.
    func flushForClose() throws(LogError) {
        let (segment, next, producers, failure) = state.withLock { ($0.segments.last!, $0.nextOffset, $0.producers, $0.writeFailure) }
        if let failure { throw failure }
        do {
            try segment.log.sync()
            try segment.writeIndexesCompletely(sync: true)
        } catch {
            throw refuseWrites(after: error)
        }
        state.withLock { s in
            s.durable = RecoveryCheckpoint(segmentBase: segment.baseOffset, position: segment.size, nextOffset: next, producers: producers)
            s.dirty = false
        }
        try writeCheckpointIfChanged()
    }

    /// Whether the partition was closed (its store closed or its topic deleted).
    var isClosed: Bool { state.withLock { $0.closed } }
}
