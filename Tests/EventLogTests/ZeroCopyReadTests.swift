import TestSupport
import Testing
@testable import EventLog

/// Reads hand out records whose bytes are views into the read's buffers
/// (Docs/adr/0002-zero-copy-reads.md): they equal what was appended, for every codec, and
/// stay correct however long they are kept.
@Suite struct ZeroCopyReadTests {
    /// Appends random records (keys, tombstones, headers with any bytes) in batches of one to
    /// twenty, to a topic with small segments and a dense index.
    private static func appendRandom(_ p: Partition, seed: UInt64) async throws -> [Record] {
        var rng = SplitMix64(seed: seed)
        var appended: [Record] = []
        for _ in 0..<40 {
            let batch = (0..<Int.random(in: 1...20, using: &rng)).map { _ in randomRecord(&rng) }
            try await p.append(batch)
            appended += batch
        }
        return appended
    }

    private static func expectEqual(_ read: StoredRecord, _ record: Record, at offset: Int, _ comment: Comment) {
        #expect(read.offset == Offset(Int64(offset)), comment)
        #expect(read.key == record.key, comment)
        #expect(read.value == record.value, comment)
        #expect(read.headers == record.headers, comment)
        #expect(Array(read.headers.map(\.name)) == record.headers.map(\.name), comment)
        if let first = record.headers.first { #expect(read.headers[first.name] == first.value, comment) }
        if let timestamp = record.timestamp { #expect(read.timestamp == timestamp, comment) }
    }

    @Test(arguments: CompressionCodec.allCases)
    func readRecordsEqualWhatWasAppendedAndStaySoWhenKept(codec: CompressionCodec) async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            var config = TopicConfiguration(compression: codec, durability: .none, segmentBytes: 64 << 10)
            config.indexIntervalBytes = 512
            let p = try await store.createTopic(named: "views", configuration: config).partitions[0]
            let appended = try await Self.appendRandom(p, seed: 77 &+ UInt64(codec.rawValue))

            // Reads of every size from every kind of start, each kept: later reads must not
            // write into the buffers earlier records point into.
            var rng = SplitMix64(seed: 5)
            var kept: [StoredRecord] = []
            for _ in 0..<60 {
                let from = Int.random(in: 0..<appended.count, using: &rng)
                let maxRecords = Int.random(in: 1...64, using: &rng)
                let maxBytes = [1, 2_000, 40_000, 1 << 20].randomElement(using: &rng)!
                let result = try p.readBlocking(from: Offset(Int64(from)), maxRecords: maxRecords, maxBytes: maxBytes)
                #expect(!result.records.isEmpty)
                for (i, read) in result.records.enumerated() {
                    Self.expectEqual(read, appended[from + i], at: from + i, "\(codec) read from \(from), record \(i)")
                }
                kept += result.records
            }
            // The async read path and the sequence, kept too.
            kept += try await readAll(p)
            var sequence = p.records(from: .earliest).makeAsyncIterator()
            for _ in 0..<appended.count { kept.append(try #require(try await sequence.next())) }

            // Everything kept still reads as appended, after every other read, and after the
            // store closed its files (buffers are memory, not the files' pages).
            try await store.close()
            for read in kept {
                let offset = Int(read.offset.rawValue)
                Self.expectEqual(read, appended[offset], at: offset, "\(codec) kept record \(offset)")
                let copy = read.copied()
                #expect(copy == read)
                #expect(copy.buffer.capacity <= read.buffer.capacity)
                Self.expectEqual(copy, appended[offset], at: offset, "\(codec) copied record \(offset)")
            }
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func recordsShareTheirReadsBuffers(codec: CompressionCodec) async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let config = TopicConfiguration(compression: codec, durability: .none)
            let p = try await store.createTopic(named: "shared", configuration: config).partitions[0]
            for b in 0..<50 {
                try await p.append((0..<20).map { Record(key: "k\($0)", value: "batch \(b) record \($0) " + String(repeating: "v", count: 80)) })
            }
            let records = try p.readBlocking(from: 0, maxRecords: 1_000).records
            #expect(records.count == 1_000)
            // One buffer per chunk read (uncompressed) or per batch (compressed), never one per record.
            let buffers = Set(records.map { ObjectIdentifier($0.buffer) })
            #expect(buffers.count <= (codec == .none ? 2 : 50), "\(buffers.count) buffers for \(records.count) records")
            try await store.close()
        }
    }

    @Test func poolHandsOutOnlyBuffersNothingElseHolds() {
        let pool = ReadBufferPool(capacityBytes: 64 << 10)
        var first: ReadBuffer? = pool.take(atLeast: 100)
        #expect(first!.capacity == 16 << 10)
        let firstID = ObjectIdentifier(first!)
        // Held by a "record": the next take gets another buffer.
        let second = pool.take(atLeast: 100)
        #expect(ObjectIdentifier(second) != firstID)
        // Let go: it comes back.
        first = nil
        let third = pool.take(atLeast: 16 << 10)
        #expect(ObjectIdentifier(third) == firstID)
        // Bounded: buffers past 64 KiB are not kept.
        let held = (0..<6).map { _ in pool.take(atLeast: 10_000) }
        #expect(pool.heldBytes <= 64 << 10)
        #expect(held.count == 6)
        // Larger than 1 MiB: never pooled.
        let huge = pool.take(atLeast: (1 << 20) + 1)
        #expect(huge.capacity == (1 << 20) + 1)
        #expect(pool.heldBytes <= 64 << 10)
        withExtendedLifetime((second, third)) {}
    }

    @Test func readsReuseTheBuffersOfRecordsLetGo() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.createTopic(named: "reuse", configuration: TopicConfiguration(durability: .none)).partitions[0]
            for b in 0..<20 {
                try await p.append((0..<50).map { Record(value: "batch \(b) record \($0) " + String(repeating: "r", count: 100)) })
            }
            // Records let go: a later read reads into the same buffers (the pool is shared
            // with tests running beside this one, so one of several tries is enough).
            var reused = false
            for _ in 0..<20 where !reused {
                let first = Set(try p.readBlocking(from: 0, maxRecords: 1_000).records.map { ObjectIdentifier($0.buffer) })
                let second = try p.readBlocking(from: 0, maxRecords: 1_000).records
                reused = second.contains { first.contains(ObjectIdentifier($0.buffer)) }
            }
            #expect(reused, "no read reused a buffer whose records were let go")

            // A record kept pins its buffer: no later read writes into it.
            let kept = try p.readBlocking(from: 0, maxRecords: 1_000).records[0]
            for _ in 0..<5 {
                let records = try p.readBlocking(from: 0, maxRecords: 1_000).records
                #expect(records.count == 1_000)
                #expect(records.allSatisfy { $0.buffer !== kept.buffer }, "a later read wrote into a buffer a kept record points into")
            }
            #expect(String(decoding: Array(kept.value!), as: UTF8.self).hasPrefix("batch 0 record 0 "))
            try await store.close()
        }
    }
}
