import Foundation
import Synchronization
import TestSupport
import Testing
@testable import EventLog

/// Retention and compaction passes: where they run, how concurrent requests share them,
/// tombstone expiry, offset spans, and the files they leave.
@Suite struct MaintenanceTests {
    // MARK: Passes never hold the append path's threads (issue 10, item 19)

    /// Six concurrent compaction requests on one topic while an `fsync` append goes to
    /// another: the append is answered before the first compaction is, and the requests share
    /// passes instead of queueing one each.
    @Test func compactionRequestsNeitherStallAppendsNorQueueOnePassEach() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) {
                $0.cleanerInterval = nil
                $0.ioThreads = 2
            }
            let p = try await store.createTopic(named: "kv", configuration: compactedConfiguration(segmentBytes: 16 << 10)).partitions[0]
            let other = try await store.createTopic(named: "other", configuration: TopicConfiguration(durability: .fsync)).partitions[0]
            let value = bytes(String(repeating: "v", count: 200))
            for round in 0..<4 {
                try await p.append((0..<400).map { Record(key: "key-\($0 % 100)", value: value + bytes("\(round)")) })
            }
            // About 330 KB to read and some to write, at 400 KB/s: each real pass takes most of a second.
            let limits = CompactionLimits(bytesPerSecond: 400 << 10)
            let finished = SharedCounter()
            let compactions = (0..<6).map { _ in
                Task { () throws -> CompactionReport in
                    defer { finished.increment() }
                    return try await p.compact(limits: limits)
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            try await other.append([Record(value: bytes("not behind the cleaner"))])
            let finishedBeforeTheAppend = finished.value
            for c in compactions { _ = try await c.value }
            #expect(finishedBeforeTheAppend == 0, "the append waited for \(finishedBeforeTheAppend) compactions")
            let passes = p.cleanerState.compactionsRun
            #expect(passes <= 2, "6 concurrent requests ran \(passes) compactions")
            try await store.close()
        }
    }

    // MARK: Tombstones expire by the cleaner's clock (item 15)

    /// A tombstone whose record timestamp is far in the past (0) stays for `deleteRetentionMs`
    /// from when the cleaner first saw it, across a restart, and then goes.
    @Test func aTombstoneStampedLongAgoStaysForDeleteRetentionFromWhenTheCleanerSawIt() async throws {
        try await withTemporaryDirectory { dir in
            let time = TestClock(1_700_000_000_000)
            let configure: (inout LogStore.Options) -> Void = {
                $0.cleanerInterval = nil
                $0.clock = time.clock
            }
            let store = try await openStore(dir, configure: configure)
            let p = try await store.createTopic(named: "kv", configuration: compactedConfiguration(deleteRetentionMs: 60_000)).partitions[0]
            func fill(_ tag: String) async throws {
                for i in 0..<30 { try await p.append([Record(key: "filler-\(tag)-\(i)", value: bytes(String(repeating: "f", count: 100)))]) }
            }
            try await p.append([Record(key: "gone", value: bytes("v1"), timestamp: 0)])
            try await p.append([Record(key: "gone", value: nil, timestamp: 0)])  // a tombstone from 1970
            try await fill("a")
            _ = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil))
            var tombstones = try await readAll(p).filter { text($0.key) == "gone" }
            #expect(tombstones.count == 1 && tombstones.first?.value == nil, "consumers must see the delete: \(tombstones)")

            // 30 s later, after a restart: still inside deleteRetentionMs of the first sighting.
            try await store.close()
            time.advance(by: 30_000)
            let again = try await openStore(dir, configure: configure)
            let q = try #require(again.topic(named: "kv")).partitions[0]
            for i in 0..<30 { try await q.append([Record(key: "filler-b-\(i)", value: bytes(String(repeating: "f", count: 100)))]) }
            _ = try await q.compact(limits: CompactionLimits(bytesPerSecond: nil))
            tombstones = try await readAll(q).filter { text($0.key) == "gone" }
            #expect(tombstones.count == 1, "the first sighting's time survives a restart")

            // Past deleteRetentionMs since the first sighting: the next pass removes it, even
            // with nothing new to clean.
            time.advance(by: 31_000)
            let report = try await q.compact(limits: CompactionLimits(bytesPerSecond: nil))
            tombstones = try await readAll(q).filter { text($0.key) == "gone" }
            #expect(tombstones.isEmpty, "an expired tombstone goes: \(tombstones), \(report)")
            try await again.close()
        }
    }

    // MARK: Merged segments fit the relative offset field (item 16)

    /// Two closed segments whose offsets lie more than 2^32 apart (gaps left by compaction)
    /// are not merged into one file, whose 32-bit relative offsets could not name them.
    @Test func compactionNeverMergesSegmentsSpanningMoreThanTheRelativeOffsetField() async throws {
        try await withTemporaryDirectory { dir in
            let config = compactedConfiguration(segmentBytes: 1 << 20)
            let partitionDir = dir + "/topics/wide/0"
            try FileManager.default.createDirectory(atPath: partitionDir, withIntermediateDirectories: true)
            try Data(config.encodedFile()).write(to: URL(fileURLWithPath: dir + "/topics/wide/topic.conf"))
            // Segments at 0, 5e9 (beyond UInt32 from 0) and 1e10 (active), two records each.
            let bases: [Int64] = [0, 5_000_000_000, 10_000_000_000]
            for base in bases {
                var batch = try EncodedBatch(records: [Record(key: "k", value: bytes("at \(base)")), Record(key: "u\(base)", value: bytes("x"))],
                                             codec: .none, now: 1_000)
                withUnsafeBytes(of: base.bigEndian) { raw in for i in 0..<8 { batch.bytes[i] = raw[i] } }
                try Data(batch.bytes).write(to: URL(fileURLWithPath: partitionDir + "/" + SegmentPaths.fileStem(base) + ".log"))
            }
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            let p = try #require(store.topic(named: "wide")).partitions[0]
            #expect(p.endOffset == 10_000_000_002)
            _ = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil))
            // Every record is within 2^32 offsets of the base of the segment holding it.
            let segmentBases = p.segments().map(\.baseOffset.rawValue)
            let records = try await readAll(p)
            for r in records {
                let base = segmentBases.last { $0 <= r.offset.rawValue }!
                #expect(r.offset.rawValue - base <= Int64(UInt32.max), "offset \(r.offset) in the segment at \(base)")
            }
            let kept = records.map { "\($0.offset.rawValue) \(text($0.key)!)" }
            // k at 0 is superseded by k at 5e9 (the closed range's latest); the active segment is untouched.
            #expect(kept == ["1 u0", "5000000000 k", "5000000001 u5000000000", "10000000000 k", "10000000001 u10000000000"])
            try await store.close()
            // And the next start (and its cleaner) finds nothing to trap on.
            let again = try await openStore(dir, configure: noBackgroundCleaner)
            _ = try await again.topic(named: "wide")!.partitions[0].compact(limits: CompactionLimits(bytesPerSecond: nil))
            #expect(try await readAll(again.topic(named: "wide")!.partitions[0]).count == 5)
            try await again.close()
        }
    }

    // MARK: Readers of deleted segments leave no files behind (item 20)

    /// A reader that first touches a segment's indexes after retention deleted the segment
    /// (its index files were not loaded yet) rebuilds them in memory and writes no files.
    @Test func aLaggingReaderOfADeletedSegmentRecreatesNoIndexFiles() async throws {
        try await withTemporaryDirectory { dir in
            var config = TopicConfiguration(durability: .none, retentionBytes: 4096, segmentBytes: 2048)
            config.indexIntervalBytes = 256
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            let p = try await store.createTopic(named: "sized", configuration: config).partitions[0]
            for i in 0..<100 { try await p.append([Record(value: bytes("record \(i) " + String(repeating: "p", count: 100)))]) }
            try await store.close()
            // After a clean open a sealed segment's indexes are loaded on first use.
            let again = try await openStore(dir, configure: noBackgroundCleaner)
            let q = try #require(again.topic(named: "sized")).partitions[0]
            let lagging = q.state.withLock { $0.segments[0] }
            let report = try await q.applyRetention()
            #expect(report.segmentsDeleted > 0)
            _ = try lagging.position(forOffset: lagging.baseOffset + 1)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/topics/sized/0")
                .filter { $0.hasPrefix(SegmentPaths.fileStem(lagging.baseOffset)) }
            #expect(leftovers.isEmpty, "orphan files of a deleted segment: \(leftovers)")
            try await again.close()
        }
    }
}
