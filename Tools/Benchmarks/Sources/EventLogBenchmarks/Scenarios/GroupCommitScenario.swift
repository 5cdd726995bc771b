import EventLog

/// Scenario 4: durability `fsync` with many concurrent one-record appenders (group commit).
enum GroupCommitScenario {
    static let appenders = 64

    static func run(_ context: BenchmarkContext) async throws {
        let workload = context.workload100
        let seconds = context.scale.fsyncSeconds
        let rounds = context.scale.rounds

        // Interleaved rounds: the disk's fdatasync rate, 1 appender, 64 appenders, SQLite FULL.
        var disk: [Double] = [], singles: [Double] = [], manys: [Double] = [], sqlite: [Double] = []
        var syncs: Int64 = 0, batchesSynced: Int64 = 0, manySeconds = 0.0
        var settings = ""
        for _ in 0..<rounds {
            disk.append(try context.baselines.measureFdatasyncRate(rounds: 1).median)
            // One appender: every append pays one fdatasync.
            singles.append(try await measure(context, name: "fsync-1", tasks: 1, seconds: seconds, workload: workload).rate)
            // 64 appenders: appends waiting while a sync runs share the next one.
            let many = try await measure(context, name: "fsync-64", tasks: appenders, seconds: seconds, workload: workload)
            manys.append(many.rate)
            syncs += many.stats.syncs
            batchesSynced += many.stats.batchesSynced
            manySeconds += many.seconds

            // SQLite through GRDB: WAL, synchronous=FULL, 64 concurrent writers, one row per transaction.
            let sqliteDir = try context.work.fresh("sqlite-full")
            let pool = try SQLiteBaseline.openPool(at: sqliteDir + "/events.sqlite", synchronous: "FULL")
            settings = try SQLiteBaseline.settings(of: pool)
            let (rows, interval) = try await SQLiteBaseline.concurrentSingleRowWriters(pool: pool, workload: workload,
                                                                                     writers: appenders, seconds: seconds)
            let stored = try SQLiteBaseline.rowCount(pool)
            try pool.close()
            context.work.discard(sqliteDir)
            guard stored == rows else { throw BenchmarkError("SQLite holds \(stored) rows, expected \(rows)") }
            sqlite.append(Double(rows) / interval.seconds)
        }
        let (d, one, many, lite) = (Spread(disk), Spread(singles), Spread(manys), Spread(sqlite))
        print("  SQLite (GRDB DatabasePool, \(settings)), \(appenders) writers: \(Units.rate(lite.median))")
        let rate = { (v: Double) in Units.rate(v) }
        let groupSize = Double(batchesSynced) / Double(max(1, syncs))
        let speedup = many.median / one.median
        let label = "\(Units.fixed(seconds, 0)) s each"
        context.results.add(.groupCommit, "fsync, 1 appender × 1 record, \(label)", figure: rate(one.median) + one.range(rate),
                            baseline: "disk 4 KiB pwrite+fdatasync " + Units.rate(d.median, unit: "syncs/s") + d.range { Units.rate($0, unit: "/s") },
                            ratio: one.median / d.median)
        context.results.add(.groupCommit, "fsync, \(appenders) appenders × 1 record, \(label)",
                            figure: rate(many.median) + many.range(rate) + ", " + Units.rate(Double(syncs) / manySeconds, unit: "syncs/s"),
                            baseline: "1 appender " + rate(one.median), ratio: speedup,
                            target: "≥ 20× 1 appender", verdict: speedup >= 20 ? .met : .missed)
        context.results.add(.groupCommit, "average group size (batchesSynced / syncs), \(appenders) appenders",
                            figure: Units.fixed(groupSize, 1) + " (\(batchesSynced) / \(syncs))",
                            target: "≥ 48", verdict: groupSize >= 48 ? .met : .missed)
        context.results.add(.groupCommit, "fsync, \(appenders) appenders vs SQLite", figure: rate(many.median),
                            baseline: "SQLite WAL FULL, \(appenders) writers " + rate(lite.median) + lite.range(rate), ratio: many.median / lite.median)
    }

    struct Measured {
        var rate: Double
        var seconds: Double
        var stats: Partition.Statistics
    }

    static func measure(_ context: BenchmarkContext, name: String, tasks: Int, seconds: Double, workload: Workload) async throws -> Measured {
        let (store, dir) = try await context.openStore(name)
        let partition = try await context.partition(in: store, "bench", durability: .fsync)
        let (count, interval) = try await Appenders.appendSingles(to: partition, workload: workload, tasks: tasks, seconds: seconds)
        let stats = partition.statistics
        let end = partition.endOffset
        try await store.close()
        context.work.discard(dir)
        guard end.rawValue == Int64(count) else { throw BenchmarkError("\(name): \(count) appends acknowledged, the partition ends at \(end)") }
        return Measured(rate: Double(count) / interval.seconds, seconds: interval.seconds, stats: stats)
    }
}
