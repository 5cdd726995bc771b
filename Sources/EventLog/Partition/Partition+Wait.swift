extension Partition {
    /// Waits until a record at or after `offset` can be read (``endOffset`` > `offset`).
    ///
    /// The append that publishes such a record resumes the waiter directly: no polling.
    /// - Returns: `true` once there is data; `false` when `timeout` passed, the task was
    ///   cancelled or the partition closed first.
    public func waitForRecords(at offset: Offset, timeout: Duration) async -> Bool {
        if state.withLock({ $0.visibleEnd > offset.rawValue }) { return true }
        return await Self.waitForRecords([(partition: self, offset: offset)], timeout: timeout)
    }

    /// Waits until any of `positions` has a record at or after its offset.
    ///
    /// - Returns: `true` once one does; `false` on timeout, cancellation or close.
    public static func waitForRecords(_ positions: [(partition: Partition, offset: Offset)], timeout: Duration) async -> Bool {
        for (p, o) in positions where p.state.withLock({ $0.visibleEnd > o.rawValue }) { return true }
        if positions.isEmpty || timeout <= .zero { return false }
        return await withTaskGroup(of: Bool.self) { group in
            for (p, o) in positions {
                group.addTask { await p.waitUntilReadable(o.rawValue) }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Suspends until `offset` is readable, the partition closes, or the task is cancelled.
    func waitUntilReadable(_ offset: Int64) async -> Bool {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiterID += 1
            s.registeringWaiters[s.nextWaiterID] = false
            return s.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resumeNow: Bool? = state.withLock { s in
                    let cancelled = s.registeringWaiters.removeValue(forKey: id) ?? false
                    if cancelled { return false }
                    if s.visibleEnd > offset { return true }
                    if s.closed { return false }
                    s.waiters[id] = Waiter(offset: offset, continuation: continuation)
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            // Parked: resume it. Not parked yet: mark it, and it returns as it registers.
            // Neither (it was already woken or returned): nothing to do, nothing to remember.
            let waiter = state.withLock { s -> Waiter? in
                if let w = s.waiters.removeValue(forKey: id) { return w }
                if s.registeringWaiters[id] != nil { s.registeringWaiters[id] = true }
                return nil
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    /// How many tasks wait for appends (metrics, tests).
    public var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// Every entry the waiter bookkeeping holds: parked waiters and cancellations not yet
    /// matched with their registration (tests: it must come back to 0).
    var waiterBookkeepingCount: Int { state.withLock { $0.waiters.count + $0.registeringWaiters.count } }
}
