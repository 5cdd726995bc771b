#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventLog

/// Append throughput on one topic while the cleaner compacts a large partition of another
/// topic of the same store (default throttle), against the same appends without the cleaner,
/// in interleaved rounds.
enum AppendWhileCompactingScenario {
    /// What one round with the cleaner measured.
    struct CleanerRun {
        var report: CompactionReport
        var seconds: Double
        /// The fraction of the append run during which the cleaner was running (1 when it outlasted it).
        var overlap: Double
    }

    static func run(_ context: BenchmarkContext) async throws {
        let rounds = context.scale.rounds
        let seconds = context.scale.busySeconds
        let tasks = context.options.appenders
        let limits = CompactionLimits()
        // Big enough for the throttled cleaner to outlast an append run: it reads the dirty log
        // twice (map, then clean) at no more than the throttle's rate.
        let requested = Int64(seconds * Double(192 << 20)) * Int64(rounds)
        guard let total = context.logSize(requested, for: .appendWhileCompacting) else {
            context.results.add(.appendWhileCompacting, "append while compacting", figure: "not measured",
                                target: "≥ 70% of without", verdict: .notMeasured)
            return
        }
        let dirtyBytes = total / Int64(rounds)

        // One store: a dirty compacted topic per round, and the appends' topics.
        let (store, dir) = try await context.openStore("append-while-compacting", options: BenchmarkContext.manualCleaning)
        let workload = KeyedWorkload(keyCount: context.scale.compactionKeys)
        let buildWatch = Stopwatch()
        var dirty: [Partition] = []
        for r in 0..<rounds {
            let p = try await context.compactedPartition(in: store, "dirty-\(r)")
            _ = try await workload.fill(p, bytes: dirtyBytes, tasks: tasks)
            dirty.append(p)
        }
        sync()
        print("  built \(rounds) compacted partition(s) of \(Units.bytes(dirty[0].sizeInBytes)) (\(dirty[0].segmentCount) segments, "
            + "\(context.scale.compactionKeys) keys) in \(Units.fixed(buildWatch.elapsedSeconds, 1)) s")

        var plain: [Double] = [], busy: [Double] = []
        var plainCPU = 0.0, busyCPU = 0.0
        var cleaner: [CleanerRun] = []
        for r in 0..<rounds {
            // Alternate which goes first, so a drift of the machine's speed does not favour one.
            for withCleaner in (r % 2 == 0 ? [false, true] : [true, false]) {
                sync()
                let name = "appends-\(r)-\(withCleaner ? "cleaning" : "plain")"
                let partition = try await context.partition(in: store, name, durability: .none)
                if withCleaner {
                    let compacted = dirty[r]
                    let start = Stopwatch.monotonicNanoseconds()
                    async let cleaned = compactTimed(compacted, limits: limits)
                    let (count, interval) = try await Appenders.appendBatches(to: partition, workload: context.workload100, tasks: tasks, seconds: seconds)
                    let appendEnd = Stopwatch.monotonicNanoseconds()
                    let (report, cleanerSeconds, cleanerEnd) = try await cleaned
                    let overlap = min(1, Double(cleanerEnd - min(cleanerEnd, start)) / Double(appendEnd - start))
                    cleaner.append(CleanerRun(report: report, seconds: cleanerSeconds, overlap: overlap))
                    try check(partition, count)
                    busy.append(Double(count) / interval.seconds)
                    busyCPU += interval.utilisation
                    print("  round \(r + 1), with the cleaner: \(Units.rate(busy.last!)); cleaner read \(Units.bytes(report.bytesRead)) in "
                        + "\(Units.fixed(cleanerSeconds, 2)) s, \(report.recordsRemoved) records removed, busy for \(Units.percent(overlap)) of the run")
                } else {
                    let (count, interval) = try await Appenders.appendBatches(to: partition, workload: context.workload100, tasks: tasks, seconds: seconds)
                    try check(partition, count)
                    plain.append(Double(count) / interval.seconds)
                    plainCPU += interval.utilisation
                    print("  round \(r + 1), without: \(Units.rate(plain.last!))")
                }
                try await store.deleteTopic(named: name)
            }
        }
        try await store.close()
        context.work.discard(dir)

        let (without, with) = (Spread(plain), Spread(busy))
        let rate = { (v: Double) in Units.rate(v) }
        let ratio = with.median / without.median
        context.results.add(.appendWhileCompacting,
                            "100 B × 100/batch, none, \(tasks) tasks, \(Units.fixed(seconds, 0)) s runs, while compact() (128 MiB/s) cleans a \(Units.bytes(dirtyBytes)) log",
                            figure: rate(with.median) + with.range(rate) + " CPU " + Units.percent(busyCPU / Double(rounds)),
                            baseline: "same appends without the cleaner " + rate(without.median) + without.range(rate)
                                + " CPU " + Units.percent(plainCPU / Double(rounds)),
                            ratio: ratio, target: "≥ 70% of without", verdict: ratio >= 0.7 ? .met : .missed)
        let read = Spread(cleaner.map { Double($0.report.bytesRead) / $0.seconds })
        let io = Spread(cleaner.map { Double($0.report.bytesRead + $0.report.bytesWritten) / $0.seconds })
        let overlap = cleaner.map(\.overlap).min() ?? 0
        let throttle = Double(limits.bytesPerSecond ?? 0)
        context.results.add(.appendWhileCompacting, "the cleaner meanwhile: (bytesRead + bytesWritten) / duration",
                            figure: Units.megabytesPerSecond(io.median) + io.range(Units.megabytesPerSecond)
                                + " (read " + Units.megabytesPerSecond(read.median) + "), running for ≥ " + Units.percent(overlap) + " of each append run",
                            baseline: "throttle 128 MiB/s = " + Units.megabytesPerSecond(throttle), ratio: io.median / throttle)
        if overlap < 1 {
            context.note("append-while-compacting: the cleaner finished before the end of an append run (it ran for \(Units.percent(overlap)) of it); "
                + "the dirty log is sized from --seconds (192 MiB per second of appending).")
        }
    }

    /// Runs `compact` and returns its report, its wall seconds and when it ended.
    static func compactTimed(_ partition: Partition, limits: CompactionLimits) async throws -> (CompactionReport, Double, UInt64) {
        let watch = Stopwatch()
        let report = try await partition.compact(limits: limits)
        return (report, watch.elapsedSeconds, Stopwatch.monotonicNanoseconds())
    }

    private static func check(_ partition: Partition, _ count: Int) throws {
        guard partition.endOffset.rawValue == Int64(count) else {
            throw BenchmarkError("append-while-compacting: \(count) records acknowledged, the partition ends at \(partition.endOffset)")
        }
    }
}
