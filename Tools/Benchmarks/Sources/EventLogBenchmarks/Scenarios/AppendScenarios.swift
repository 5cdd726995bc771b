import EventLog

/// Scenarios 2 and 3: append throughput with durability `none`, per codec, and with 1 MiB batches.
enum AppendScenarios {
    /// One measured append run into a fresh store; the store is closed (untimed) and removed.
    struct Run {
        var recordsPerSecond: Double
        var bytesPerSecond: Double
        var interval: Stopwatch.Interval
        var bytesOnDisk: Int64
    }

    static func measure(_ context: BenchmarkContext, name: String, codec: CompressionCodec, workload: Workload,
                        records: Int, tasks: Int, includeClose: Bool = false) async throws -> Run {
        let (store, dir) = try await context.openStore(name)
        let partition = try await context.partition(in: store, "bench", compression: codec, durability: .none)
        let batches = max(1, records / workload.batchSize)
        let watch = Stopwatch()
        var interval = try await Appenders.append(to: partition, workload: workload, batches: batches, tasks: tasks)
        let end = partition.endOffset
        let size = partition.sizeInBytes
        try await store.close()
        if includeClose { interval = watch.stop() }
        context.work.discard(dir)
        let appended = batches * workload.batchSize
        guard end.rawValue == Int64(appended) else {
            throw BenchmarkError("\(name): expected \(appended) records, the partition ends at \(end)")
        }
        return Run(recordsPerSecond: Double(appended) / interval.seconds,
                   bytesPerSecond: Double(batches * workload.bytesPerBatch) / interval.seconds,
                   interval: interval, bytesOnDisk: size)
    }

    /// ``measure(_:name:codec:workload:records:tasks:includeClose:)`` repeated ``Scale/rounds`` times.
    static func measureRounds(_ context: BenchmarkContext, name: String, codec: CompressionCodec, workload: Workload,
                              records: Int, tasks: Int) async throws -> (rate: Spread, utilisation: Double, bytesPerRecord: Double) {
        var runs: [Run] = []
        for _ in 0..<context.scale.rounds {
            runs.append(try await measure(context, name: name, codec: codec, workload: workload, records: records, tasks: tasks))
        }
        let rate = Spread(runs.map(\.recordsPerSecond))
        let utilisation = runs.map(\.interval.utilisation).reduce(0, +) / Double(runs.count)
        let perRecord = Double(runs[0].bytesOnDisk) / Double(records / workload.batchSize * workload.batchSize)
        return (rate, utilisation, perRecord)
    }

    private static func taskCounts(_ context: BenchmarkContext) -> [Int] {
        context.options.appenders > 1 ? [1, context.options.appenders] : [1]
    }

    private static func tasksLabel(_ n: Int) -> String { n == 1 ? "1 task" : "\(n) tasks" }

    private static func recordsLabel(_ n: Int) -> String { RandomReadScenario.millions(n) + " records" }

    // MARK: durability none, no compression, vs SQLite

    static func runNone(_ context: BenchmarkContext) async throws {
        let workload = context.workload100
        let ceiling = try context.baselines.ceiling(.none)

        // SQLite through GRDB: WAL, synchronous=NORMAL, one transaction per batch of 100 rows.
        var sqliteRates: [Double] = []
        var settings = ""
        for _ in 0..<context.scale.rounds {
            let sqliteDir = try context.work.fresh("sqlite-normal")
            let pool = try SQLiteBaseline.openPool(at: sqliteDir + "/events.sqlite", synchronous: "NORMAL")
            settings = try SQLiteBaseline.settings(of: pool)
            let sqliteBatches = context.scale.sqliteRecords / workload.batchSize
            let interval = try SQLiteBaseline.insertBatches(into: pool, workload: workload, batches: sqliteBatches)
            let rows = try SQLiteBaseline.rowCount(pool)
            try pool.close()
            context.work.discard(sqliteDir)
            guard rows == sqliteBatches * workload.batchSize else { throw BenchmarkError("SQLite holds \(rows) rows, expected \(sqliteBatches * workload.batchSize)") }
            sqliteRates.append(Double(rows) / interval.seconds)
        }
        let sqlite = Spread(sqliteRates)
        print("  SQLite (GRDB DatabasePool, \(settings)), \(context.scale.sqliteRecords) rows, 100 per transaction: \(Units.rate(sqlite.median))\(sqlite.range { Units.rate($0) })")

        var best = 0.0
        for tasks in taskCounts(context) {
            let (rate, cpu, _) = try await measureRounds(context, name: "append-none-\(tasks)", codec: .none, workload: workload,
                                                         records: context.scale.appendRecords, tasks: tasks)
            best = max(best, rate.median)
            let ratio = rate.median / sqlite.median
            let met = rate.median >= 4_000_000 && ratio >= 5
            context.results.add(.appendNone, "100 B × 100/batch, none, \(tasksLabel(tasks)), \(recordsLabel(context.scale.appendRecords))",
                                figure: Units.rate(rate.median) + rate.range { Units.rate($0) } + " CPU " + Units.percent(cpu),
                                baseline: "SQLite WAL NORMAL, 1 writer " + Units.rate(sqlite.median), ratio: ratio,
                                target: "≥ 4 M rec/s and ≥ 5× SQLite", verdict: met ? .met : .missed)
        }
        context.results.add(.appendNone, "best median above vs the plain ceiling", figure: Units.rate(best),
                            baseline: "EncodedBatch + pwrite, 1 thread " + Units.rate(ceiling.encodeAndWrite),
                            ratio: best / ceiling.encodeAndWrite)
    }

    // MARK: LZ4

    static func runLZ4(_ context: BenchmarkContext) async throws {
        let ceiling = try context.baselines.ceiling(.lz4)
        for tasks in taskCounts(context) {
            let (rate, cpu, perRecord) = try await measureRounds(context, name: "append-lz4-\(tasks)", codec: .lz4, workload: context.workload100,
                                                                 records: context.scale.compressedRecords, tasks: tasks)
            context.results.add(.appendLZ4, "100 B × 100/batch, lz4, \(tasksLabel(tasks)), \(recordsLabel(context.scale.compressedRecords))",
                                figure: Units.rate(rate.median) + rate.range { Units.rate($0) } + " CPU " + Units.percent(cpu)
                                    + ", " + Units.fixed(perRecord, 1) + " B/rec on disk",
                                baseline: "lz4 ceiling, 1 thread " + Units.rate(ceiling.encodeAndWrite),
                                ratio: rate.median / ceiling.encodeAndWrite,
                                target: "≥ 2.5 M rec/s", verdict: rate.median >= 2_500_000 ? .met : .missed)
        }
    }

    // MARK: Zstd, compression on the appending tasks

    static func runZstd(_ context: BenchmarkContext) async throws {
        let ceiling = try context.baselines.ceiling(.zstd)
        var counts = taskCounts(context)
        if !counts.contains(Machine.cores) { counts.append(Machine.cores) }
        for tasks in counts.sorted() {
            let (rate, cpu, perRecord) = try await measureRounds(context, name: "append-zstd-\(tasks)", codec: .zstd, workload: context.workload100,
                                                                 records: context.scale.compressedRecords, tasks: tasks)
            context.results.add(.appendZstd, "100 B × 100/batch, zstd, \(tasksLabel(tasks)), \(recordsLabel(context.scale.compressedRecords))",
                                figure: Units.rate(rate.median) + rate.range { Units.rate($0) } + " CPU " + Units.percent(cpu)
                                    + " of \(Machine.cores) cores, " + Units.fixed(perRecord, 1) + " B/rec on disk",
                                baseline: "zstd ceiling, 1 thread " + Units.rate(ceiling.encodeAndWrite),
                                ratio: rate.median / ceiling.encodeAndWrite)
        }
    }

    // MARK: 1 MiB batches vs dd

    static func runLargeBatches(_ context: BenchmarkContext) async throws {
        let workload = context.workload1MiB
        let total = context.scale.ddBytes
        let records = total / workload.valueSize
        let tasks = context.options.appenders
        let mb = Units.megabytesPerSecond
        // Interleaved rounds: dd conv=fdatasync, dd oflag=direct, then EventLog with durability
        // none timed to the end of close() (which syncs): the shape of dd conv=fdatasync.
        var ddSync: [Double] = [], ddDirect: [Double] = [], eventLog: [Double] = []
        for _ in 0..<context.scale.rounds {
            ddSync.append(try context.baselines.measureDD(flag: "conv=fdatasync"))
            ddDirect.append(try context.baselines.measureDD(flag: "oflag=direct"))
            let run = try await measure(context, name: "append-1mib", codec: .none, workload: workload, records: records,
                                        tasks: tasks, includeClose: true)
            eventLog.append(run.bytesPerSecond)
        }
        let (sync, direct, log) = (Spread(ddSync), Spread(ddDirect), Spread(eventLog))
        let ratio = log.median / sync.median
        context.results.add(.append1MiB, "1 MiB batches (1024 × 1 KiB), none, \(tasksLabel(tasks)), \(Units.bytes(Int64(total))) + close (fdatasync)",
                            figure: mb(log.median) + log.range(mb),
                            baseline: "dd conv=fdatasync " + mb(sync.median) + sync.range(mb), ratio: ratio,
                            target: "≥ 70% of dd", verdict: ratio >= 0.7 ? .met : .missed)
        context.results.add(.append1MiB, "the same figure vs dd with O_DIRECT (interleaved)", figure: mb(log.median),
                            baseline: "dd oflag=direct " + mb(direct.median) + direct.range(mb), ratio: log.median / direct.median,
                            target: "≥ 70% of dd", verdict: log.median / direct.median >= 0.7 ? .met : .missed)

        // Durability fsync: every append waits for its fdatasync (shared by the appends waiting with it).
        let (store, dir) = try await context.openStore("append-1mib-fsync")
        let partition = try await context.partition(in: store, "bench", durability: .fsync)
        let batches = max(1, total / workload.bytesPerBatch / 4)
        let interval = try await Appenders.append(to: partition, workload: workload, batches: batches, tasks: tasks)
        let stats = partition.statistics
        try await store.close()
        context.work.discard(dir)
        let rate = Double(batches * workload.bytesPerBatch) / interval.seconds
        context.results.add(.append1MiB, "1 MiB batches, fsync, \(tasksLabel(tasks)), \(Units.bytes(Int64(batches * workload.bytesPerBatch)))",
                            figure: mb(rate) + " (\(Units.fixed(Double(stats.batchesSynced) / Double(max(1, stats.syncs)), 1)) batches/sync)",
                            baseline: "dd oflag=direct " + mb(direct.median), ratio: rate / direct.median)
    }
}
