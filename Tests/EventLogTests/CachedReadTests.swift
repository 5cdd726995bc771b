import Foundation
import Glibc
import TestSupport
import Testing
@testable import EventLog

/// The code of the `LogError` `body` throws; `nil` when it throws none.
private func thrownCode(_ body: () throws -> Void) -> LogError.Code? {
    do {
        try body()
        return nil
    } catch {
        return (error as? LogError)?.code
    }
}

/// `Partition.readIfCached`: the same read as `readBlocking` when every byte it needs is in the
/// page cache, else `nil` with nothing changed (the caller then reads on the I/O threads).
@Suite(.timeLimit(.minutes(1))) struct CachedReadTests {
    /// Random batches of random records (keys, values, headers, timestamps each sometimes
    /// absent) on small segments with a dense index; for a compacted topic, keys from a small
    /// set and a compaction pass, so that offsets have gaps.
    func randomPartition(_ store: LogStore, codec: CompressionCodec, compacted: Bool, rng: inout SplitMix64) async throws -> Partition {
        var config = TopicConfiguration(compression: codec, durability: .none, cleanupPolicy: compacted ? .compact : .delete,
                                        segmentBytes: 16 << 10)
        config.indexIntervalBytes = 512
        let p = try await store.createTopic(named: "t", configuration: config).partitions[0]
        for _ in 0..<80 {
            var records = (0..<Int.random(in: 1...12, using: &rng)).map { _ in randomRecord(&rng) }
            if compacted { records = records.map { Record(key: "k\(Int.random(in: 0..<6, using: &rng))", value: $0.value) } }
            try await p.append(records)
        }
        if compacted { _ = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil)) }
        return p
    }

    @Test("a cached read returns exactly what the blocking read returns",
          arguments: CompressionCodec.allCases, [false, true])
    func cachedReadEqualsBlockingRead(codec: CompressionCodec, compacted: Bool) async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            var rng = SplitMix64(seed: 0xCAC4E + UInt64(codec.rawValue) * 2 + (compacted ? 1 : 0))
            let p = try await randomPartition(store, codec: codec, compacted: compacted, rng: &rng)
            let (start, end) = (p.startOffset.rawValue, p.endOffset.rawValue)
            // Reads cross segments; after compaction they also skip gaps between offsets.
            #expect(p.segmentCount > (compacted ? 1 : 3))
            if compacted { #expect(try p.readBlocking(from: Offset(start), maxRecords: 100_000).records.count < Int(end - start)) }
            for _ in 0..<400 {
                let offset = Offset(Int64.random(in: start...end, using: &rng))
                let maxRecords = [1, 2, 7, 50, 10_000].randomElement(using: &rng)!
                let maxBytes = [1, 100, 4096, 65_536, 1 << 20].randomElement(using: &rng)!
                let blocking = try p.readBlocking(from: offset, maxRecords: maxRecords, maxBytes: maxBytes)
                // Everything was just written: it is all in the page cache.
                let cached = try #require(try p.readIfCached(from: offset, maxRecords: maxRecords, maxBytes: maxBytes),
                                          "read from \(offset), \(maxRecords) records, \(maxBytes) bytes")
                #expect(cached.records == blocking.records)
                #expect(cached.nextOffset == blocking.nextOffset)
            }
            // The errors found before reading are the blocking read's.
            #expect(thrownCode { _ = try p.readIfCached(from: Offset(end + 1), maxRecords: 1) } == .offsetOutOfRange)
            #expect(thrownCode { _ = try p.readIfCached(from: Offset(start), maxRecords: 0) } == .invalidArgument)
            try await store.close()
        }
    }

    /// 300 records of a kilobyte on 64 KiB segments: a read of all of them reads each segment.
    func partitionOfSegments(_ store: LogStore, durability: Durability = .none) async throws -> Partition {
        let config = TopicConfiguration(durability: durability, segmentBytes: 64 << 10)
        let p = try await store.createTopic(named: "s", configuration: config).partitions[0]
        for b in 0..<30 {
            try await p.append((0..<10).map { Record(key: "k\($0)", value: bytes(String(repeating: "\(b % 10)", count: 1000))) })
        }
        return p
    }

    @Test func aReadThatWouldBlockReturnsNilAndChangesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            // Synced, and read once: the kernel's own answer to a non-blocking read is then
            // "cached" (a page still being written back can make it EAGAIN, which `make test`
            // saw once: one recorded read where three were expected), and only the injected
            // failures count.
            let p = try await partitionOfSegments(store, durability: .fsync)
            #expect(p.segmentCount >= 4)
            #expect(try p.readBlocking(from: 0, maxRecords: 1000).records.count == 300)
            let before = (p.startOffset, p.endOffset, p.statistics, p.damagedRanges, p.segments())
            faults.startRecording()
            // The third segment's bytes are not in memory: two segments' records were decoded already.
            faults.fail(.preadCached, errno: EAGAIN, after: 3)
            #expect(try p.readIfCached(from: 0, maxRecords: 1000) == nil)
            #expect(faults.recordedCalls.filter { $0.call == .preadCached }.count == 3)
            // Only part of the second segment's bytes are.
            faults.fail(.preadCached, errno: EAGAIN, after: 2, partialBytes: 100)
            #expect(try p.readIfCached(from: 0, maxRecords: 1000) == nil)
            #expect(faults.recordedCalls.filter { $0.call == .preadCached }.count == 5)
            // Nothing changed: the blocking read, and a cached read now, return everything.
            let after = (p.startOffset, p.endOffset, p.statistics, p.damagedRanges, p.segments())
            #expect(after.0 == before.0 && after.1 == before.1 && after.2 == before.2 && after.3 == before.3 && after.4 == before.4)
            let blocking = try p.readBlocking(from: 0, maxRecords: 1000)
            #expect(blocking.records.count == 300)
            let cached = try #require(try p.readIfCached(from: 0, maxRecords: 1000))
            #expect(cached.records == blocking.records && cached.nextOffset == blocking.nextOffset)
            try await store.close()
        }
    }

    /// Drops `directory`'s files from the page cache (`posix_fadvise(POSIX_FADV_DONTNEED)`,
    /// after an `fsync`: only clean pages are dropped).
    func evictFromPageCache(_ directory: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let fd = open(directory + "/" + name, O_RDONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            #expect(fsync(fd) == 0)
            #expect(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0)
        }
    }

    @Test func bytesNotInThePageCacheAreNotReadInline() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await partitionOfSegments(store)
            try evictFromPageCache(dir + "/topics/s/0")
            // The kernel answers EAGAIN (preadv2 with RWF_NOWAIT): the read is left to the I/O threads.
            #expect(try p.readIfCached(from: 0, maxRecords: 1000) == nil)
            #expect(try p.readIfCached(from: 150, maxRecords: 10) == nil)
            let blocking = try p.readBlocking(from: 0, maxRecords: 1000)
            #expect(blocking.records.count == 300)
            // The blocking read brought them in.
            let cached = try #require(try p.readIfCached(from: 0, maxRecords: 1000), "this kernel reads from the page cache with RWF_NOWAIT")
            #expect(cached.records == blocking.records && cached.nextOffset == blocking.nextOffset)
            try await store.close()
        }
    }

    @Test func aSegmentWhoseIndexesAreNotLoadedIsNotReadInline() async throws {
        try await withTemporaryDirectory { dir in
            var store = try await openStore(dir)
            _ = try await partitionOfSegments(store)
            try await store.close()
            store = try await openStore(dir)
            let p = try #require(store.topic(named: "s")).partitions[0]
            // Offset 5 is inside the first segment: finding it needs the segment's index, which
            // the reopened store has not loaded (loading reads the index files).
            #expect(try p.readIfCached(from: 5, maxRecords: 10) == nil)
            let blocking = try p.readBlocking(from: 5, maxRecords: 10)
            let cached = try #require(try p.readIfCached(from: 5, maxRecords: 10))
            #expect(cached.records == blocking.records && cached.nextOffset == blocking.nextOffset)
            try await store.close()
        }
    }

    @Test func damageIsLeftToTheBlockingRead() async throws {
        try await withTemporaryDirectory { dir in
            let values = try await DamagedSegmentTests().damagedStore(dir)  // batch 25 (offsets 75 to 77) damaged
            let store = try await openStore(dir)
            let p = try #require(store.topic(named: "r")).partitions[0]
            // Up to the damage, the read is served inline.
            let before = try #require(try p.readIfCached(from: 0, maxRecords: 75))
            #expect(before.records.map { text($0.value)! } == Array(values[..<75]))
            // Meeting it, the records before it are not served inline and the damage is not
            // noted: the blocking read does both. (From the start: no index is needed.)
            #expect(try p.readIfCached(from: 0, maxRecords: 1000) == nil)
            #expect(p.damagedRanges.isEmpty)
            #expect(try p.readBlocking(from: 0, maxRecords: 1000).records.count == 75)
            #expect(thrownCode { _ = try p.readBlocking(from: 75, maxRecords: 1000) } == .corruptData)
            #expect(p.damagedRanges == [OffsetRange(first: 75, end: 78)])
            try await store.close()
        }
    }
}
