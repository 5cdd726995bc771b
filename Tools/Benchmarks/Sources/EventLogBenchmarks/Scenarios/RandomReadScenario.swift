import EventLog

/// Scenario 5: the latency of one-record reads at random offsets, warm and cold cache.
enum RandomReadScenario {
    static func run(_ context: BenchmarkContext) async throws {
        let fixture = try await ReadFixture.shared(context)
        let samples = context.scale.randomSamples
        let largeName = millions(fixture.largeRecords), smallName = millions(fixture.smallRecords)

        // Warm: both logs read once first, then checked resident.
        PageCache.warm(fixture.files(of: fixture.large) + fixture.files(of: fixture.small))
        let resident = PageCache.residentFraction(fixture.files(of: fixture.large))
        print("  warm cache: \(Units.percent(resident)) of the \(largeName)-record log's pages resident")

        var large = try sample(fixture.large, records: fixture.largeRecords, samples: samples, maxBytes: nil)
        var small = try sample(fixture.small, records: fixture.smallRecords, samples: samples, maxBytes: nil)
        let (lm, sm) = (large.median(), small.median())
        let within = lm / sm
        context.results.add(.randomRead, "readBlocking(maxRecords: 1), \(largeName) records, warm, median (\(samples) samples)",
                            figure: Units.micros(lm), baseline: "\(smallName) records " + Units.micros(sm), ratio: within,
                            target: "< 10 µs and ≤ 2× of \(smallName)", verdict: lm < 10 && within <= 2 ? .met : .missed)
        context.results.add(.randomRead, "the same, p99", figure: Units.micros(large.p99()),
                            baseline: "\(smallName) records " + Units.micros(small.p99()), ratio: large.p99() / small.p99())

        // The same with the smallest read-ahead the API allows (maxBytes: 1 → a 64 KiB pread chunk).
        var largeSmallChunk = try sample(fixture.large, records: fixture.largeRecords, samples: samples, maxBytes: 1)
        var smallSmallChunk = try sample(fixture.small, records: fixture.smallRecords, samples: samples, maxBytes: 1)
        context.results.add(.randomRead, "readBlocking(maxRecords: 1, maxBytes: 1), \(largeName), warm, median / p99",
                            figure: Units.micros(largeSmallChunk.median()) + " / " + Units.micros(largeSmallChunk.p99()),
                            baseline: "\(smallName) " + Units.micros(smallSmallChunk.median()) + " / " + Units.micros(smallSmallChunk.p99()),
                            ratio: largeSmallChunk.median() / smallSmallChunk.median())

        try cold(context, fixture, warmMedian: lm)
    }

    /// Cold reads: the partition's files are evicted from the page cache before every sample.
    private static func cold(_ context: BenchmarkContext, _ fixture: ReadFixture, warmMedian: Double) throws {
        let files = fixture.files(of: fixture.large)
        let name = millions(fixture.largeRecords)

        // First check that eviction works at all (mincore after posix_fadvise DONTNEED).
        PageCache.evict(files)
        let afterEvict = PageCache.residentFraction(files)
        if afterEvict > 0.05 {
            context.results.add(.randomRead, "cold cache, median", figure: "not measured",
                                target: "< 100 µs", verdict: .notMeasured)
            context.note("cold reads not measured: posix_fadvise(DONTNEED) left \(Units.percent(afterEvict)) of the log resident.")
            return
        }
        // The baseline: a plain pread of the chunk readBlocking asks for (16 KiB for one record)
        // at random positions of the same .log files, evicted the same way, interleaved with
        // the measured reads so that the disk's minute-to-minute swings hit both alike.
        let raw = try RawRandomReader(files: files.filter { $0.hasSuffix(".log") }, chunk: 16 << 10, seed: 0x4a3)
        var rng = SplitMix64(seed: 0xc01d)
        var latencies = LatencySamples(capacity: context.scale.coldSamples)
        var rawLatencies = LatencySamples(capacity: context.scale.coldSamples)
        for _ in 0..<context.scale.coldSamples {
            PageCache.evict(files)
            latencies.record(try timedRead(fixture.large, at: Int64(rng.next() % UInt64(fixture.largeRecords)), maxBytes: nil))
            PageCache.evict(files)
            rawLatencies.record(try raw.timedRead())
        }
        let median = latencies.median()
        context.results.add(.randomRead, "readBlocking(maxRecords: 1), \(name), cold (fadvise DONTNEED before each), median / p99 (\(latencies.count))",
                            figure: Units.micros(median) + " / " + Units.micros(latencies.p99()),
                            baseline: "pread 16 KiB, same eviction " + Units.micros(rawLatencies.median()) + " / " + Units.micros(rawLatencies.p99()),
                            ratio: median / rawLatencies.median(),
                            target: "< 100 µs", verdict: median < 100 ? .met : .missed)

        var smallChunk = LatencySamples(capacity: context.scale.coldSamples)
        for _ in 0..<context.scale.coldSamples {
            PageCache.evict(files)
            smallChunk.record(try timedRead(fixture.large, at: Int64(rng.next() % UInt64(fixture.largeRecords)), maxBytes: 1))
        }
        context.results.add(.randomRead, "the same with maxBytes: 1 (64 KiB chunk), cold, median / p99",
                            figure: Units.micros(smallChunk.median()) + " / " + Units.micros(smallChunk.p99()),
                            baseline: "warm " + Units.micros(warmMedian), ratio: smallChunk.median() / warmMedian)

        // Cross-check with the whole page cache dropped (root only; checked with mincore). This
        // also drops the file system's cached metadata (extent blocks, the extent status cache),
        // so the device is read more than once per pread: the raw pread shows that floor.
        guard PageCache.dropAll(), PageCache.residentFraction(files) < 0.05 else {
            context.note("/proc/sys/vm/drop_caches could not be used here, so cold reads were measured only with posix_fadvise(DONTNEED).")
            return
        }
        var dropped = LatencySamples(capacity: context.scale.dropCacheSamples)
        var rawDropped = LatencySamples(capacity: context.scale.dropCacheSamples)
        for i in 0..<context.scale.dropCacheSamples {
            if i > 0 { _ = PageCache.dropAll() }
            dropped.record(try timedRead(fixture.large, at: Int64(rng.next() % UInt64(fixture.largeRecords)), maxBytes: nil))
            _ = PageCache.dropAll()
            rawDropped.record(try raw.timedRead())
        }
        context.results.add(.randomRead, "cold, echo 3 > drop_caches before each, median / max (\(dropped.count))",
                            figure: Units.micros(dropped.median()) + " / " + Units.micros(dropped.microseconds(atQuantile: 1)),
                            baseline: "pread 16 KiB, same drop " + Units.micros(rawDropped.median()) + " / " + Units.micros(rawDropped.microseconds(atQuantile: 1)),
                            ratio: dropped.median() / rawDropped.median(),
                            target: "≤ 1.2× the pread", verdict: dropped.median() <= 1.2 * rawDropped.median() ? .met : .missed)
    }

    /// `samples` reads of one record at uniformly random offsets, after 1,000 unmeasured ones.
    static func sample(_ partition: Partition, records: Int, samples: Int, maxBytes: Int?) throws -> LatencySamples {
        var rng = SplitMix64(seed: 0x4ead)
        for _ in 0..<1000 { _ = try timedRead(partition, at: Int64(rng.next() % UInt64(records)), maxBytes: maxBytes) }
        var latencies = LatencySamples(capacity: samples)
        for _ in 0..<samples {
            latencies.record(try timedRead(partition, at: Int64(rng.next() % UInt64(records)), maxBytes: maxBytes))
        }
        return latencies
    }

    /// One `readBlocking(from:maxRecords: 1)`, checked, in nanoseconds.
    @inline(__always)
    static func timedRead(_ partition: Partition, at offset: Int64, maxBytes: Int?) throws -> UInt64 {
        let start = Stopwatch.monotonicNanoseconds()
        let result = if let maxBytes {
            try partition.readBlocking(from: Offset(offset), maxRecords: 1, maxBytes: maxBytes)
        } else {
            try partition.readBlocking(from: Offset(offset), maxRecords: 1)
        }
        let elapsed = Stopwatch.monotonicNanoseconds() - start
        guard result.records.count == 1, result.records[0].offset.rawValue == offset else {
            throw BenchmarkError("a read at \(offset) returned \(result.records.first.map { "offset \($0.offset)" } ?? "nothing")")
        }
        return elapsed
    }

    static func millions(_ n: Int) -> String {
        n % 1_000_000 == 0 ? "\(n / 1_000_000)M" : "\(n / 1000)k"
    }
}
