import EventLog

/// Concurrent appending tasks, the way an application would drive a partition.
enum Appenders {
    /// Appends `batches` batches of `workload` to `partition` from `tasks` tasks (each awaits its
    /// own append before the next) and returns the wall and CPU time from first to last.
    static func append(to partition: Partition, workload: Workload, batches: Int, tasks: Int) async throws -> Stopwatch.Interval {
        let tasks = max(1, min(tasks, batches))
        let watch = Stopwatch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                let share = batches / tasks + (t < batches % tasks ? 1 : 0)
                group.addTask {
                    for i in 0..<share {
                        try await partition.append(workload.batch(t &+ i &* tasks))
                    }
                }
            }
            try await group.waitForAll()
        }
        return watch.stop()
    }

    /// Appends one record at a time from `tasks` tasks until `seconds` have passed: records appended and the interval.
    static func appendSingles(to partition: Partition, workload: Workload, tasks: Int, seconds: Double) async throws -> (count: Int, interval: Stopwatch.Interval) {
        let deadline = Stopwatch.monotonicNanoseconds() + UInt64(seconds * 1e9)
        let watch = Stopwatch()
        let count = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var n = 0
                    let records = workload.batch(t)
                    while Stopwatch.monotonicNanoseconds() < deadline {
                        try await partition.append([records[n % records.count]])
                        n += 1
                    }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
        return (count, watch.stop())
    }

    /// Appends whole batches of `workload` from `tasks` tasks until `seconds` have passed:
    /// records appended and the interval (from the first append to the last acknowledgement).
    static func appendBatches(to partition: Partition, workload: Workload, tasks: Int, seconds: Double) async throws -> (count: Int, interval: Stopwatch.Interval) {
        let deadline = Stopwatch.monotonicNanoseconds() + UInt64(seconds * 1e9)
        let watch = Stopwatch()
        let batches = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<max(1, tasks) {
                group.addTask {
                    var n = 0
                    while Stopwatch.monotonicNanoseconds() < deadline {
                        try await partition.append(workload.batch(t &+ n &* tasks))
                        n += 1
                    }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
        return (batches * workload.batchSize, watch.stop())
    }

    /// Appends `batch(i)` for i = 0, 1, … from `tasks` tasks until the partition holds at least
    /// `bytes` bytes of segments: the batches appended.
    static func fill(_ partition: Partition, bytes: Int64, tasks: Int, batch: @escaping @Sendable (Int) -> [Record]) async throws -> Int {
        let tasks = max(1, tasks)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var n = 0
                    while partition.sizeInBytes < bytes {
                        try await partition.append(batch(t &+ n &* tasks))
                        n += 1
                    }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
    }
}
