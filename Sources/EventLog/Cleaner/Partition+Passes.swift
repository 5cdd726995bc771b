/// Which retention and compaction passes of a partition are queued or running.
///
/// Passes run on the store's maintenance lane (``IOExecutor/maintenanceLane``), never on the
/// threads appends use. A request for a pass of a kind already queued joins it (one pass,
/// one report for all); a request made while one runs queues one more, which the rest join.
/// So any number of concurrent requests cost at most two passes and hold no thread while
/// they wait.
struct PassSchedule: Sendable {
    enum Kind: Hashable, Sendable { case retention, compaction }
    enum Report: Sendable {
        case retention(RetentionReport)
        case compaction(CompactionReport)
    }

    /// The requests waiting for the queued (not yet started) pass of each kind.
    var queued: [Kind: [CheckedContinuation<Report, any Error>]] = [:]
    /// A pass is running.
    var running = false
    /// The partition closed: no pass may start.
    var retired = false
    /// Resumed when the running pass ends (a close waits for it).
    var idleWaiters: [CheckedContinuation<Void, Never>] = []
}

extension Partition {
    /// Runs a pass of `kind` on the maintenance lane, or joins the one already queued.
    ///
    /// - Throws: ``LogError/Code/closed`` when the partition closes first, or what the pass throws.
    func requestPass(_ kind: PassSchedule.Kind, _ pass: @escaping @Sendable () throws -> PassSchedule.Report) async throws -> PassSchedule.Report {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PassSchedule.Report, any Error>) in
            enum Step { case refuse, join, submit }
            let step = passes.withLock { s -> Step in
                if s.retired { return .refuse }
                if s.queued[kind] != nil {
                    s.queued[kind]!.append(continuation)
                    return .join
                }
                s.queued[kind] = [continuation]
                return .submit
            }
            switch step {
            case .refuse:
                continuation.resume(throwing: closedForMaintenance())
            case .join:
                break
            case .submit:
                let lane = executor.maintenanceLane ?? executor
                let submitted = lane.submit {
                    let waiting = self.passes.withLock { $0.queued.removeValue(forKey: kind) ?? [] }
                    let result = Result { try pass() }
                    for c in waiting { c.resume(with: result) }
                }
                if !submitted {
                    let waiting = passes.withLock { $0.queued.removeValue(forKey: kind) ?? [] }
                    for c in waiting { c.resume(throwing: LogError(.closed, "the store is closed.")) }
                }
            }
        }
    }

    /// Runs `body` as the partition's one pass: refused once the partition closed, and a close
    /// waits for it to end. Only the maintenance lane calls it (one thread per store), so two
    /// passes never overlap.
    func exclusivePass<T>(_ body: () throws -> T) throws -> T {
        let admitted = passes.withLock { s -> Bool in
            if s.retired { return false }
            precondition(!s.running, "two maintenance passes of one partition at once")
            s.running = true
            return true
        }
        guard admitted else { throw closedForMaintenance() }
        defer {
            let idle = passes.withLock { s -> [CheckedContinuation<Void, Never>] in
                s.running = false
                defer { s.idleWaiters.removeAll() }
                return s.idleWaiters
            }
            for c in idle { c.resume() }
        }
        return try body()
    }

    /// Throws ``LogError/Code/closed`` once the partition closed: a long pass checks between
    /// its steps, so that a close or a delete does not wait for all of it.
    func checkPassMayContinue() throws(LogError) {
        if passes.withLock({ $0.retired }) { throw closedForMaintenance() }
    }

    /// Stops maintenance for good (close, delete): queued requests fail with
    /// ``LogError/Code/closed``; returns once a running pass has ended.
    func retireMaintenance() async {
        let queued = passes.withLock { s -> [CheckedContinuation<PassSchedule.Report, any Error>] in
            s.retired = true
            defer { s.queued.removeAll() }
            return s.queued.values.flatMap { $0 }
        }
        for c in queued { c.resume(throwing: closedForMaintenance()) }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let idle = passes.withLock { s -> Bool in
                if !s.running { return true }
                s.idleWaiters.append(c)
                return false
            }
            if idle { c.resume() }
        }
    }

    private func closedForMaintenance() -> LogError {
        LogError(.closed, "partition \(topicName)/\(index) is closed.")
    }
}
