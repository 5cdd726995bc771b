extension Partition {
    /// Stops appends, waits for queued ones, syncs data and indexes, writes the checkpoint.
    ///
    /// Appends still queued when it is called are written (they were accepted); later ones
    /// fail with ``LogError/Code/closed``. Waiting readers are woken and end.
    func close() async throws {
        let ready = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.closed = true
            return Partition.takeReadyWaiters(&s)
        }
        for c in ready { c.resume(returning: false) }
        // The writer resumes us when it has written everything that was queued.
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s -> Bool in
                if !s.writerScheduled && s.pending.isEmpty { return true }
                s.drainWaiters.append(c)
                return false
            }
            if idle { c.resume() }
        }
        try await executor.run { try self.flushForClose() }
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
}

