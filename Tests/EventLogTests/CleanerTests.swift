import Foundation
import TestSupport
import Testing
@testable import EventLog

@Suite struct CleanerTests {
    func compactedTopic(_ store: LogStore, _ name: String = "kv", segmentBytes: Int64 = 2048, deleteRetentionMs: Int64 = 24 * 3_600_000) async throws -> Partition {
        let config = compactedConfiguration(segmentBytes: segmentBytes, deleteRetentionMs: deleteRetentionMs)
        return try await store.createTopic(named: name, configuration: config).partitions[0]
    }

    @Test func latestValuePerKeySurvivesWithOffsetsAndOrderKept() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            let p = try await compactedTopic(store)
            var latest: [String: (Int64, String)] = [:]
            var keyless: [Int64] = []
            for round in 0..<40 {
                var records: [Record] = []
                for k in 0..<10 {
                    records.append(Record(key: "key-\(k)", value: bytes("r\(round)-k\(k)")))
                }
                records.append(Record(value: bytes("keyless-\(round)")))
                let range = try await p.append(records)
                for k in 0..<10 { latest["key-\(k)"] = (range.first.rawValue + Int64(k), "r\(round)-k\(k)") }
                keyless.append(range.first.rawValue + 10)
            }
            let end = p.endOffset
            let before = p.segmentCount
            let report = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil))
            #expect(report.recordsRemoved > 0 && report.bytesAfter < report.bytesBefore)
            #expect(p.endOffset == end)
            #expect(p.segmentCount < before, "cleaned segments merge: \(before) -> \(p.segmentCount)")
            let all = try await readAll(p)
            let offsets = all.map(\.offset.rawValue)
            #expect(offsets == offsets.sorted() && Set(offsets).count == offsets.count)
            var seen: [String: (Int64, String)] = [:]
            for r in all { if let k = text(r.key) { seen[k] = (r.offset.rawValue, text(r.value)!) } }
            for (k, v) in latest {
                // Keys whose latest record is still in the active segment are untouched; in every
                // case the latest value must be there at its offset.
                #expect(seen[k]! == v, "key \(k)")
            }
            // Keyless records are kept.
            #expect(Set(keyless).isSubset(of: Set(offsets)))
            // In the compacted range a key appears once.
            let closedEnd = p.segments().last!.baseOffset.rawValue
            let keyedClosed = all.filter { $0.key != nil && $0.offset.rawValue < closedEnd }.map { text($0.key)! }
            #expect(keyedClosed.count == Set(keyedClosed).count)
            try await store.close()
            // The result survives a restart.
            let again = try await openStore(dir, configure: noBackgroundCleaner)
            #expect(try await readAll(again.topic(named: "kv")!.partitions[0]).map(\.offset) == all.map(\.offset))
            try await again.close()
        }
    }

    /// A tombstone stays `deleteRetentionMs` after the cleaner first saw it, by the store's
    /// clock (whatever its own timestamp says), then goes with what it deleted.
    @Test func tombstonesStayForDeleteRetentionThenGo() async throws {
        try await withTemporaryDirectory { dir in
            let time = TestClock(1_700_000_000_000)
            let store = try await openStore(dir) {
                $0.cleanerInterval = nil
                $0.clock = time.clock
            }
            let p = try await compactedTopic(store, deleteRetentionMs: 60_000)
            func fill(_ tag: String) async throws {
                for i in 0..<60 { try await p.append([Record(key: "filler-\(tag)-\(i)", value: bytes(String(repeating: "f", count: 100)))]) }
            }
            func tombstones(_ key: String) async throws -> [StoredRecord] {
                try await readAll(p).filter { text($0.key) == key && $0.value == nil }
            }
            try await p.append([Record(key: "old", value: bytes("v1"))])
            try await p.append([Record(key: "old", value: nil, timestamp: 1)])  // a timestamp long ago changes nothing
            try await fill("a")
            _ = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil))  // sees "old" at T0
            let firstSeen = try await tombstones("old")
            #expect(firstSeen.count == 1, "a tombstone stays for consumers")

            time.advance(by: 40_000)
            try await p.append([Record(key: "new", value: bytes("v1"))])
            try await p.append([Record(key: "new", value: nil)])
            try await fill("b")
            _ = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil))  // sees "new" at T0 + 40 s
            let (oldKept, newKept) = (try await tombstones("old").count, try await tombstones("new").count)
            #expect(oldKept == 1 && newKept == 1)

            time.advance(by: 21_000)  // T0 + 61 s: "old" expired, "new" not
            _ = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil))
            let keys = try await readAll(p).map { text($0.key) }
            let oldGone = !keys.contains("old")
            #expect(oldGone, "an expired tombstone and what it deleted are gone")
            let recent = try await readAll(p).filter { text($0.key) == "new" }
            #expect(recent.count == 1 && recent.first?.value == nil, "a tombstone inside deleteRetentionMs stays: \(recent)")

            time.advance(by: 40_000)  // T0 + 101 s
            _ = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil))
            let newLeft = try await tombstones("new")
            #expect(newLeft.isEmpty, "\(newLeft)")
            try await store.close()
        }
    }

    @Test func moreKeysThanTheMapHoldsAreCleanedInSeveralPasses() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            let p = try await compactedTopic(store, segmentBytes: 64 << 10)
            // 3 rounds over 2,000 keys; a 48 KiB budget holds 1,536 keys, so passes > 1.
            for round in 0..<3 {
                for chunk in stride(from: 0, to: 2000, by: 100) {
                    try await p.append((chunk..<chunk + 100).map { Record(key: "key-\($0)", value: bytes("r\(round)-\($0)")) })
                }
            }
            try await p.append([Record(key: "tail", value: bytes("in the active segment"))])
            // Force everything but the last record into closed segments.
            let report = try await p.compact(limits: CompactionLimits(offsetMapBytes: 48 << 10, bytesPerSecond: nil))
            #expect(report.passes > 1, "passes: \(report.passes)")
            let all = try await readAll(p)
            let closedEnd = p.segments().last!.baseOffset.rawValue
            var latest: [String: String] = [:]
            for r in all { latest[text(r.key)!] = text(r.value)! }
            for k in 0..<2000 { #expect(latest["key-\(k)"] == "r2-\(k)") }
            let closedKeys = all.filter { $0.offset.rawValue < closedEnd }.map { text($0.key)! }
            #expect(closedKeys.count == Set(closedKeys).count)
            try await store.close()
        }
    }

    @Test func aReaderStartedBeforeCompactionFinishesItsScanCorrectly() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            let p = try await compactedTopic(store)
            for round in 0..<30 {
                try await p.append((0..<8).map { Record(key: "k\($0)", value: bytes("r\(round)-k\($0)")) })
            }
            let end = p.endOffset
            // Read the first part, then compact, then read on.
            let first = try await p.read(from: 0, maxRecords: 20)
            _ = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil))
            var rest: [StoredRecord] = []
            var next = first.nextOffset
            while next < end {
                let r = try await p.read(from: next, maxRecords: 7)
                rest += r.records
                next = r.nextOffset
            }
            let seen = first.records + rest
            let offsets = seen.map(\.offset.rawValue)
            #expect(offsets == offsets.sorted() && Set(offsets).count == offsets.count)
            var latest: [String: String] = [:]
            for r in seen { latest[text(r.key)!] = text(r.value)! }
            for k in 0..<8 { #expect(latest["k\(k)"] == "r29-k\(k)") }
            // A segment object captured before compaction keeps reading its (replaced) file.
            try await store.close()
        }
    }

    @Test func compactIsRefusedForDeleteOnlyTopics() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            let p = try await store.topic(named: "plain", creatingWith: store.defaultTopicConfiguration).partitions[0]
            do {
                _ = try await p.compact()
                Issue.record("expected notCompacted")
            } catch let e as LogError {
                #expect(e.code == .notCompacted)
            }
            try await store.close()
        }
    }

    @Test func retentionBySizeAndByTimeKeepsTheActiveSegmentAndOldReadersReading() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            var config = TopicConfiguration(durability: .none, retentionBytes: 8192, segmentBytes: 2048)
            config.indexIntervalBytes = 256
            let p = try await store.createTopic(named: "sized", configuration: config).partitions[0]
            for i in 0..<200 { try await p.append([Record(value: bytes("record \(i) " + String(repeating: "p", count: 100)))]) }
            let oldSegments = p.state.withLock { $0.segments }
            let report = try await p.applyRetention()
            #expect(report.segmentsDeleted > 0)
            #expect(p.startOffset == report.startOffset && p.startOffset > 0)
            #expect(p.sizeInBytes - oldSegments.last!.size < 8192 + 2048)
            #expect(p.endOffset == 200)
            // Reads below the start are out of range, with the range.
            do {
                _ = try await p.read(from: 0, maxRecords: 1)
                Issue.record("expected out of range")
            } catch let e as LogError {
                #expect(e.code == .offsetOutOfRange && e.range?.first == p.startOffset)
            }
            // A reader that still holds a deleted segment reads it to its end.
            var scanner = BatchScanner(file: oldSegments[0].log, start: 0, end: oldSegments[0].size)
            var batches = 0
            while try scanner.nextBatch(verify: true, { _, _, _ in }) != nil { batches += 1 }
            #expect(batches > 0)
            // A tail from the deleted range continues at the new start.
            var it = p.records(from: .offset(0)).makeAsyncIterator()
            #expect(try await it.next()?.offset == p.startOffset)

            // By time: everything older than 1 s goes, the active segment stays.
            var timed = TopicConfiguration(durability: .none, retention: .seconds(1), segmentBytes: 2048)
            timed.indexIntervalBytes = 256
            let q = try await store.createTopic(named: "timed", configuration: timed).partitions[0]
            let old = FileSystem.nowMilliseconds() - 10_000
            for i in 0..<100 { try await q.append([Record(value: bytes("old \(i) " + String(repeating: "o", count: 100)), timestamp: old)]) }
            try await q.append([Record(value: bytes("fresh"))])
            let r2 = try await q.applyRetention()
            #expect(r2.segmentsDeleted == q.segments().count + r2.segmentsDeleted - 1)
            #expect(q.segmentCount == 1)
            #expect(try await readAll(q).last.map { text($0.value) } == "fresh")
            try await store.close()
            let again = try await openStore(dir, configure: noBackgroundCleaner)
            #expect(again.topic(named: "sized")!.partitions[0].startOffset == report.startOffset)
            try await again.close()
        }
    }

    @Test func theBackgroundCleanerCompactsDirtyPartitions() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) { $0.cleanerInterval = .milliseconds(50) }
            let p = try await compactedTopic(store)
            for round in 0..<40 { try await p.append((0..<5).map { Record(key: "k\($0)", value: bytes("r\(round)-\($0)")) }) }
            let deadline = ContinuousClock.now + .seconds(20)
            // The cleaner may first run while appends still come in; it runs again while the ratio is high.
            while (p.cleanerState.lastCompaction == nil || p.dirtyRatio >= 0.5) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(p.cleanerState.lastCompaction != nil)
            #expect(p.dirtyRatio < 0.5)
            try await store.close()
        }
    }
}
