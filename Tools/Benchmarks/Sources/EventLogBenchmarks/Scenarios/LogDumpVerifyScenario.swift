import EventLog

/// `log-dump --verify` (the release binary, as a subprocess) over a large partition, against
/// `cat` of the same files to `/dev/null` and a plain `pread` loop, in interleaved rounds.
enum LogDumpVerifyScenario {
    static let topic = "verified"

    static func run(_ context: BenchmarkContext) async throws {
        let target = "≥ 500 MB/s"
        let binary: (path: String, origin: String)
        switch LogDumpBinary.locate(context) {
        case .success(let found): binary = found
        case .failure(let error):
            context.results.add(.logDumpVerify, "log-dump --verify", figure: "not measured", target: target, verdict: .notMeasured)
            context.note("log-dump-verify not measured: \(error)")
            return
        }
        print("  log-dump: \(binary.path) (\(binary.origin))")
        guard let size = context.logSize(context.scale.logBytes, for: .logDumpVerify) else {
            context.results.add(.logDumpVerify, "log-dump --verify", figure: "not measured", target: target, verdict: .notMeasured)
            return
        }
        guard let cat = Subprocess.which("cat") else { throw BenchmarkError("no cat in PATH") }

        // The partition: 100-byte records in batches of 100, durability none, closed cleanly.
        let (store, dir) = try await context.openStore("log-dump-verify")
        let partition = try await context.partition(in: store, topic, durability: .none)
        let workload = context.workload100
        let batches = try await Appenders.fill(partition, bytes: size, tasks: context.options.appenders) { workload.batch($0) }
        let segments = partition.segmentCount
        try await store.close()
        let partitionDir = dir + "/topics/\(topic)/0"
        let files = WorkDirectory.files(under: partitionDir)
        let bytes = WorkDirectory.size(of: partitionDir)
        let logBytes = WorkDirectory.size(of: partitionDir, matching: ".log")
        print("  partition: \(batches * workload.batchSize) records in \(batches) batches, \(segments) segment(s), "
            + "\(Units.bytes(logBytes)) of .log, \(Units.bytes(bytes)) in \(files.count) files")
        PageCache.warm(files)

        // Interleaved rounds: cat, pread, log-dump --verify; all warm.
        var catRates: [Double] = [], preadRates: [Double] = [], verifyRates: [Double] = []
        for round in 0..<context.scale.rounds {
            let catRun = try Subprocess.run(cat, files)
            guard catRun.status == 0 else { throw BenchmarkError("cat failed: \(catRun.output)") }
            catRates.append(Double(bytes) / catRun.seconds)

            let preadWatch = Stopwatch()
            let read = PageCache.readWhole(files)
            preadRates.append(Double(read) / preadWatch.elapsedSeconds)

            let verify = try Subprocess.run(binary.path, ["--verify", "--no-progress", partitionDir], captureOutput: true)
            guard verify.status == 0 else {
                throw BenchmarkError("log-dump --verify exited with \(verify.status): \(verify.output.suffix(2000))")
            }
            if round == 0, let last = verify.output.split(separator: "\n").last { print("  log-dump says: \(last)") }
            verifyRates.append(Double(bytes) / verify.seconds)
        }
        context.work.discard(dir)

        let (catSpread, preadSpread, verifySpread) = (Spread(catRates), Spread(preadRates), Spread(verifyRates))
        let mb = Units.megabytesPerSecond
        let ratio = verifySpread.median / catSpread.median
        context.results.add(.logDumpVerify, "log-dump --verify <partition dir>, \(Units.bytes(bytes)) in \(segments) segment(s) of 100 B × 100 batches, warm",
                            figure: mb(verifySpread.median) + verifySpread.range(mb),
                            baseline: "cat of the same files > /dev/null " + mb(catSpread.median) + catSpread.range(mb),
                            ratio: ratio, target: target, verdict: verifySpread.median >= 500e6 ? .met : .missed)
        context.results.add(.logDumpVerify, "the same vs a plain pread loop (1 MiB) of the files", figure: mb(verifySpread.median),
                            baseline: "pread " + mb(preadSpread.median) + preadSpread.range(mb), ratio: verifySpread.median / preadSpread.median)
    }
}
