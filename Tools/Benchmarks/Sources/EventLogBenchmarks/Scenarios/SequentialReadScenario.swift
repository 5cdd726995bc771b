#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif
import EventLog

/// Scenario 6: reading a whole partition from the earliest offset (warm cache).
enum SequentialReadScenario {
    static func run(_ context: BenchmarkContext) async throws {
        let fixture = try await ReadFixture.shared(context)
        let partition = fixture.large
        let records = fixture.largeRecords
        let files = fixture.files(of: partition).filter { $0.hasSuffix(".log") }
        PageCache.warm(files)

        // Baseline: plain 1 MiB preads of the same segment files, as records per second.
        let plainWatch = Stopwatch()
        let bytes = PageCache.readWhole(files)
        let plainSeconds = plainWatch.elapsedSeconds
        let plainRate = Double(records) / plainSeconds
        print("  plain pread of \(Units.bytes(bytes)) of .log files: \(Units.megabytesPerSecond(Double(bytes) / plainSeconds)) = \(Units.rate(plainRate))")

        // readBlocking from earliest, 100,000 records (up to 16 MiB) per call.
        var best = 0.0
        for _ in 0..<3 {
            let watch = Stopwatch()
            var next = partition.startOffset
            var count = 0
            var valueBytes = 0
            while count < records {
                let r = try partition.readBlocking(from: next, maxRecords: 100_000, maxBytes: 16 << 20)
                count += r.records.count
                for rec in r.records { valueBytes &+= rec.value?.count ?? 0 }
                next = r.nextOffset
                if r.records.isEmpty { break }
            }
            let seconds = watch.elapsedSeconds
            guard count == records, next.rawValue == Int64(records), valueBytes == records * context.workload100.valueSize else {
                throw BenchmarkError("sequential read returned \(count) records ending at \(next)")
            }
            best = max(best, Double(records) / seconds)
        }
        context.results.add(.sequentialRead, "readBlocking(maxRecords: 100000, maxBytes: 16 MiB) from earliest, \(RandomReadScenario.millions(records)) records, best of 3",
                            figure: Units.rate(best), baseline: "plain pread of the files " + Units.rate(plainRate), ratio: best / plainRate,
                            target: "≥ 8 M rec/s", verdict: best >= 8_000_000 ? .met : .missed)

        // The AsyncSequences over the small partition, best of 3 each (a run is short: one
        // scheduling hiccup on a busy machine would decide a single one).
        let small = fixture.small
        let last = Int64(fixture.smallRecords - 1)
        let partitionRate = try await bestRate(of: 3, records: fixture.smallRecords, "records(from: .earliest)") {
            var seen = 0
            for try await record in small.records(from: .earliest) {
                seen += 1
                if record.offset.rawValue == last { break }
            }
            return seen
        }
        context.results.add(.sequentialRead, "partition records(from: .earliest) AsyncSequence, \(RandomReadScenario.millions(fixture.smallRecords)) records, best of 3",
                            figure: Units.rate(partitionRate), baseline: "readBlocking " + Units.rate(best),
                            ratio: partitionRate / best, target: "≥ 0.8× readBlocking", verdict: partitionRate >= 0.8 * best ? .met : .missed)

        // The topic-level AsyncSequence over the same one-partition topic (TopicTail).
        guard let topic = fixture.store.topic(named: ReadFixture.smallTopic) else { throw BenchmarkError("no topic \(ReadFixture.smallTopic)") }
        let topicRate = try await bestRate(of: 3, records: fixture.smallRecords, "topic records(from: .earliest)") {
            var seen = 0
            for try await event in topic.records(from: .earliest) {
                guard let record = event.record else { continue }
                seen += 1
                if record.offset.rawValue == last { break }
            }
            return seen
        }
        context.results.add(.sequentialRead, "topic records(from: .earliest) AsyncSequence, \(RandomReadScenario.millions(fixture.smallRecords)) records, best of 3",
                            figure: Units.rate(topicRate), baseline: "readBlocking " + Units.rate(best),
                            ratio: topicRate / best, target: "≥ 0.8× readBlocking", verdict: topicRate >= 0.8 * best ? .met : .missed)
    }

    /// The best records/s of `runs` runs of `body`, which returns how many records it read
    /// (each run must read all `records`).
    private static func bestRate(of runs: Int, records: Int, _ what: String, _ body: () async throws -> Int) async throws -> Double {
        var best = 0.0
        for _ in 0..<runs {
            let watch = Stopwatch()
            let seen = try await body()
            let seconds = watch.elapsedSeconds
            guard seen == records else { throw BenchmarkError("\(what) yielded \(seen) records") }
            best = max(best, Double(seen) / seconds)
        }
        return best
    }
}
