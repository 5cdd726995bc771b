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
    /// One `Wakeup` is registered with every partition and with the process's deadline
    /// thread: the first of an append, the timeout, cancellation or a close resumes the
    /// task, and the others find it already resumed. No task is created per wait.
    /// - Parameters:
    ///   - positions: each partition with the offset whose record is waited for.
    ///   - timeout: the longest wait.
    ///   - changed: checked once the wake-ups are registered; `true` ends the wait at once,
    ///     as records would (a topic tail's check that its topic did not grow between taking
    ///     its partitions and registering: a growth wakes only those registered).
    /// - Returns: `true` once one does; `false` on timeout, cancellation or close.
    public static func waitForRecords(_ positions: [(partition: Partition, offset: Offset)], timeout: Duration,
                                      unless changed: (@Sendable () -> Bool)? = nil) async -> Bool {
        for (p, o) in positions where p.state.withLock({ $0.visibleEnd > o.rawValue }) { return true }
        if positions.isEmpty || timeout <= .zero { return false }
        let wakeup = Wakeup()
        var registered: [(Partition, UInt64)] = []
        registered.reserveCapacity(positions.count)
        for (p, o) in positions {
            guard let id = p.register(wakeup, for: o.rawValue) else { break }  // it has fired
            registered.append((p, id))
        }
        if let changed, changed() { wakeup.resume(returning: true) }
        let timer = WaitTimers.shared.schedule(wakeup, after: timeout)
        let woke = await withTaskCancellationHandler {
            await wakeup.wait()
        } onCancel: {
            wakeup.resume(returning: false)
        }
        WaitTimers.shared.cancel(timer)
        for (p, id) in registered { p.unregister(id) }
        return woke
    }

    /// Parks `wakeup` until `offset` is readable; resumes it at once (and returns `nil`)
    /// when it already is, or when the partition is closed.
    private func register(_ wakeup: Wakeup, for offset: Int64) -> UInt64? {
        let parked = state.withLock { s -> UInt64? in
            if s.visibleEnd > offset || s.closed { return nil }
            s.nextWaiterID += 1
            s.waiters[s.nextWaiterID] = Waiter(offset: offset, wakeup: wakeup)
            return s.nextWaiterID
        }
        if parked == nil { wakeup.resume(returning: state.withLock { !$0.closed }) }
        return parked
    }

    /// Removes a waiter that did not need this partition's wake-up.
    private func unregister(_ id: UInt64) {
        state.withLock { s in _ = s.waiters.removeValue(forKey: id) }
    }

    /// Wakes every task waiting for records here, as if each had some: its topic grew, and a
    /// tail of the whole topic must read again to wait on the new partitions too. A woken
    /// reader finds nothing new here and waits again.
    func wakeAllWaiters() {
        let woken = state.withLock { s -> [Wakeup] in
            defer { s.waiters = [:] }
            return s.waiters.values.map(\.wakeup)
        }
        for wakeup in woken { wakeup.resume(returning: true) }
    }

    /// How many tasks wait for appends (metrics, tests).
    public var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// Every entry the waiter bookkeeping holds (tests: it must come back to 0).
    var waiterBookkeepingCount: Int { state.withLock { $0.waiters.count } }
}
