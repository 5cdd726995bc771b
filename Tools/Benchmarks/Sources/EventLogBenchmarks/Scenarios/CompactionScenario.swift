import EventLog

/// Compaction throughput: `compact()` of a large log with many versions of 100,000 keys,
/// unthrottled, against a sequential read of the same log.
enum CompactionScenario {
    static let topic = "compacted"

    static func run(_ context: BenchmarkContext) async throws {
        guard let size = context.logSize(context.scale.logBytes, for: .compaction) else {
            context.results.add(.compaction, "compact(), unthrottled", figure: "not measured", verdict: .notMeasured)
            return
        }
        let keys = context.scale.compactionKeys
        let workload = KeyedWorkload(keyCount: keys)

        // Build: keyed records of 100–200 bytes, durability none, then a clean close (which
        // syncs) and a reopen, so that every page is clean and the log is in the page cache.
        let (store, dir) = try await context.openStore("compaction", options: BenchmarkContext.manualCleaning)
        let buildWatch = Stopwatch()
        let built = try await context.compactedPartition(in: store, topic)
        let batches = try await workload.fill(built, bytes: size, tasks: context.options.appenders)
        try await store.close()
        let reopened = try await LogStore.open(at: dir, options: BenchmarkContext.manualCleaning, logger: context.logger)
        guard let partition = reopened.topic(named: topic)?.partitions[0] else { throw BenchmarkError("\(topic) did not reopen") }
        let records = Int(partition.endOffset.rawValue)
        guard records == batches * workload.batchSize else {
            throw BenchmarkError("compaction: \(batches) batches appended, the partition ends at \(partition.endOffset)")
        }
        let logFiles = WorkDirectory.files(under: dir + "/topics/" + topic).filter { $0.hasSuffix(".log") }
        let logBytes = WorkDirectory.size(of: dir + "/topics/" + topic, matching: ".log")
        print("  built \(records) records (\(keys) keys, \(Units.fixed(Double(records) / Double(keys), 1)) versions per key), "
            + "\(Units.bytes(logBytes)) in \(partition.segmentCount) segments in \(Units.fixed(buildWatch.elapsedSeconds, 1)) s")

        // Baselines, warm: readBlocking of the whole log, and plain preads of its files.
        PageCache.warm(logFiles)
        let readSeconds = try readAll(partition, records: records)
        let readRate = Double(logBytes) / readSeconds
        let preadWatch = Stopwatch()
        let preadBytes = PageCache.readWhole(logFiles)
        let preadRate = Double(preadBytes) / preadWatch.elapsedSeconds
        print("  readBlocking of the log: \(Units.megabytesPerSecond(readRate)) (\(Units.rate(Double(records) / readSeconds))); "
            + "plain pread of the .log files: \(Units.megabytesPerSecond(preadRate))")

        // Compaction, unthrottled.
        let watch = Stopwatch()
        let report = try await partition.compact(limits: CompactionLimits(bytesPerSecond: nil))
        let interval = watch.stop()
        let rate = Double(report.bytesRead) / interval.seconds
        print("  report: read \(Units.bytes(report.bytesRead)), wrote \(Units.bytes(report.bytesWritten)), "
            + "\(Units.bytes(report.bytesBefore)) → \(Units.bytes(report.bytesAfter)), \(report.recordsRemoved) records removed, "
            + "segments \(report.segmentsBefore) → \(report.segmentsAfter), \(report.passes) pass(es), "
            + "\(report.duration) by the report, CPU \(Units.percent(interval.utilisation))")
        try check(partition, report: report, records: records, keys: keys)
        try await reopened.close()
        context.work.discard(dir)

        let mb = Units.megabytesPerSecond
        let shape = "\(Units.bytes(report.bytesBefore)), \(keys / 1000)k keys, \(Units.bytes(context.scale.compactionSegmentBytes)) segments"
        context.results.add(.compaction, "compact(bytesPerSecond: nil), \(shape): bytesRead / duration",
                            figure: mb(rate) + " (\(Units.bytes(report.bytesRead)) in \(Units.fixed(interval.seconds, 2)) s, CPU \(Units.percent(interval.utilisation)))",
                            baseline: "readBlocking of the same log " + mb(readRate), ratio: rate / readRate)
        context.results.add(.compaction, "the same vs plain pread of the .log files (warm)", figure: mb(rate),
                            baseline: "pread 1 MiB " + mb(preadRate), ratio: rate / preadRate)
        context.results.add(.compaction, "what it did: bytesBefore → bytesAfter, recordsRemoved",
                            figure: "\(Units.bytes(report.bytesBefore)) → \(Units.bytes(report.bytesAfter)), \(report.recordsRemoved) of \(records) records removed, "
                                + "\(report.segmentsBefore) → \(report.segmentsAfter) segments, \(report.passes) pass(es), wrote \(Units.bytes(report.bytesWritten))",
                            baseline: "log size before " + Units.bytes(report.bytesBefore), ratio: Double(report.bytesAfter) / Double(report.bytesBefore))
    }

    /// Reads the whole partition with `readBlocking` (100,000 records, 16 MiB per call): seconds.
    static func readAll(_ partition: Partition, records: Int) throws -> Double {
        let watch = Stopwatch()
        var next = partition.startOffset
        var count = 0
        while count < records {
            let r = try partition.readBlocking(from: next, maxRecords: 100_000, maxBytes: 16 << 20)
            if r.records.isEmpty { break }
            count += r.records.count
            next = r.nextOffset
        }
        let seconds = watch.elapsedSeconds
        guard count == records else { throw BenchmarkError("readBlocking returned \(count) of \(records) records") }
        return seconds
    }

    /// Checks the compacted partition: same end, fewer bytes, and every key still there once
    /// its superseded versions in the closed segments are gone.
    static func check(_ partition: Partition, report: CompactionReport, records: Int, keys: Int) throws {
        guard partition.endOffset.rawValue == Int64(records), report.recordsRemoved > 0, report.bytesAfter < report.bytesBefore else {
            throw BenchmarkError("compaction: end \(partition.endOffset), \(report.recordsRemoved) records removed, \(report.bytesBefore) → \(report.bytesAfter) bytes")
        }
        let active = partition.segments().last!.baseOffset
        var seen = Set<RecordBytes>()
        var closedRecords = 0
        var next = partition.startOffset
        while next < partition.endOffset {
            let r = try partition.readBlocking(from: next, maxRecords: 100_000, maxBytes: 16 << 20)
            if r.records.isEmpty { break }
            for record in r.records {
                // A copy of its own: a key kept in the set must not keep its read's buffer alive.
                guard let key = record.key?.copied() else { continue }
                if record.offset < active {
                    closedRecords += 1
                    guard seen.insert(key).inserted else { throw BenchmarkError("compaction kept two versions of a key below the active segment") }
                } else {
                    seen.insert(key)
                }
            }
            next = r.nextOffset
        }
        guard seen.count == keys, Int64(closedRecords) + report.recordsRemoved == active.rawValue else {
            throw BenchmarkError("compaction: \(seen.count) of \(keys) keys readable afterwards, \(closedRecords) records kept "
                + "and \(report.recordsRemoved) removed below offset \(active)")
        }
    }
}
