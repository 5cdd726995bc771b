import Foundation
import TestSupport
import Testing
@testable import EventLog

/// What the write path does when the disk fails it: each test is a path a review found
/// (issue 10, items 7–13 and 20), driven through the `FaultInjector` seam.
@Suite struct WriteFailureTests {
    /// Queues each batch (in order) while the test holds the writer role, then writes them as
    /// one group with `drain()`, as a writer busy with a sync would.
    func appendAsOneGroup(_ p: Partition, _ batches: [(records: [Record], stamp: ProducerStamp?)]) async throws
        -> [Result<OffsetRange, any Error>] {
        // Take the writer role once the last writer let it go (it lingers after a group).
        try await waitUntil {
            p.state.withLock { s in
                guard !s.writerScheduled else { return false }
                s.writerScheduled = true
                return true
            }
        }
        var tasks: [Task<OffsetRange, any Error>] = []
        for (i, batch) in batches.enumerated() {
            tasks.append(Task { try await p.append(batch.records, producer: batch.stamp) })
            try await waitUntil { p.state.withLock { $0.pending.count } == i + 1 }
        }
        p.drain()
        var results: [Result<OffsetRange, any Error>] = []
        for t in tasks { results.append(await t.result) }
        return results
    }

    /// Polls `condition` for up to 10 s (a test helper only: the engine never polls).
    func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw LogError(.ioError, "the test waited 10 s in vain") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    func value(_ n: Int, _ label: String) -> [UInt8] { Array(repeating: UInt8(ascii: "x"), count: n - label.utf8.count) + bytes(label) }

    func values(_ p: Partition) async throws -> [String] {
        try await readAll(p).map { String(text($0.value)!.drop { $0 == "x" }) }
    }

    /// Opens a crash copy of `dir` (as kill -9 or a power cut with these bytes would leave it).
    func reopenCrashCopy(_ dir: String, _ body: (LogStore) async throws -> Void) async throws {
        let copy = try crashCopy(of: dir)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let store = try await openStore(copy)
        try await body(store)
        try await store.close()
    }

    func expectRefused(_ result: Result<OffsetRange, any Error>, sourceLocation: SourceLocation = #_sourceLocation) {
        if case .success(let range) = result { Issue.record("expected a failure, got \(range)", sourceLocation: sourceLocation) }
    }

    func expectReadOnly(_ p: Partition, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            let r = try await p.append([Record(value: bytes("refused"))])
            Issue.record("expected the partition to refuse writes, got \(r)", sourceLocation: sourceLocation)
        } catch let e as LogError {
            #expect(e.code == .readOnly, sourceLocation: sourceLocation)
            #expect(e.message.contains("reopen"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    // Item 7: a roll within a group wrote the producer records of batches that were never
    // written into the durable checkpoint; a retry was then answered with offsets holding nothing.
    @Test func producerStateOfUnwrittenBatchesIsNeverCheckpointed() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            let p = try await store.createTopic(named: "p", configuration: TopicConfiguration(segmentBytes: 1024)).partitions[0]
            try await p.append([Record(value: value(800, "a"))])
            // The next 800 B batch rolls: the roll's sync of the old segment works, the new one's fails.
            faults.fail(.fdatasync, errno: EIO, after: 2, pathSuffix: ".log")
            let stamp = ProducerStamp(producerID: 7, epoch: 0, baseSequence: 0)
            await #expect(throws: LogError.self) { try await p.append([Record(value: value(800, "b"))], producer: stamp) }
            try p.writeCheckpointIfChanged()
            try await reopenCrashCopy(dir) { (r: LogStore) async throws in
                let q = r.topic(named: "p")!.partitions[0]
                let retry = try await q.append([Record(value: value(800, "b"))], producer: stamp)
                #expect(retry == OffsetRange(first: 1, end: 2))
                #expect(q.endOffset == 2)
                #expect(try await values(q) == ["a", "b"])
            }
            try? await store.close()
        }
    }

    // Item 8: after a failed fdatasync in a roll, the drain synced the same file again and
    // acknowledged the batches written before the roll.
    @Test func aFailedRollSyncAcknowledgesNothingWrittenBeforeIt() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            let p = try await store.createTopic(named: "r", configuration: TopicConfiguration(segmentBytes: 1024)).partitions[0]
            try await p.append([Record(value: value(300, "a"))])
            faults.fail(.fdatasync, errno: EIO, pathSuffix: ".log")
            // x fits in the active segment; y rolls it, and the roll's sync fails.
            let results = try await appendAsOneGroup(p, [([Record(value: value(300, "x"))], nil), ([Record(value: value(600, "y"))], nil)])
            expectRefused(results[0])
            expectRefused(results[1])
            #expect(p.endOffset == 1)
            #expect(try await values(p) == ["a"])
            await expectReadOnly(p)
            // Closing does not mark the store clean: the next open recovers from the last sync.
            await #expect(throws: LogError.self) { try await store.close() }
            #expect(!FileManager.default.fileExists(atPath: dir + "/.clean-shutdown"))
            let again = try await openStore(dir)
            let q = again.topic(named: "r")!.partitions[0]
            #expect(q.writeFailure == nil)
            #expect(try await q.append([Record(value: value(300, "c"))]).first == 1)
            try await again.close()
        }
    }

    // Item 8: a failed background sync was retried, and a later success advanced the checkpoint.
    @Test func aFailedFlusherSyncIsNotRetriedAndTheCheckpointStays() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults) { $0.flushInterval = .milliseconds(3_600_000) }
            let p = try await store.createTopic(named: "i", configuration: TopicConfiguration(durability: .interval(.milliseconds(60_000)))).partitions[0]
            try await p.append([Record(value: bytes("a"))])
            try p.syncNow()
            let before = p.state.withLock { $0.durable }
            try await p.append([Record(value: bytes("b"))])
            faults.fail(.fdatasync, errno: EIO, pathSuffix: ".log")
            #expect(throws: LogError.self) { try p.syncNow() }
            // Refused from now on; before the fix it was written, and the retried sync below
            // succeeded and moved the durable point past bytes whose first sync had failed.
            _ = try? await p.append([Record(value: bytes("c"))])
            try? p.syncNow()
            #expect(p.state.withLock { $0.durable } == before)
            await expectReadOnly(p)
            try? await store.close()
        }
    }

    // Item 9: a group that rolled, then failed the new segment's sync, cut back records the
    // roll had published; the next append trapped on a negative relative offset.
    @Test func aFailedSyncAfterARollInTheSameGroupKeepsWhatTheRollMadeDurable() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            let p = try await store.createTopic(named: "g", configuration: TopicConfiguration(segmentBytes: 1024)).partitions[0]
            // The roll's sync of the first segment works; the new segment's sync fails.
            faults.fail(.fdatasync, errno: EIO, after: 2, pathSuffix: ".log")
            let results = try await appendAsOneGroup(p, [([Record(value: value(300, "a"))], nil), ([Record(value: value(900, "b"))], nil)])
            #expect(try results[0].get() == OffsetRange(first: 0, end: 1))
            expectRefused(results[1])
            #expect(p.endOffset == 1)
            #expect(try await values(p) == ["a"])
            await expectReadOnly(p)
            try await reopenCrashCopy(dir) { (r: LogStore) async throws in
                let q = r.topic(named: "g")!.partitions[0]
                #expect(try await values(q) == ["a"])
                #expect(try await q.append([Record(value: value(300, "c"))]).first == 1)
                #expect(try await values(q) == ["a", "c"])
            }
            try? await store.close()
        }
    }

    // Item 10: a failed sync whose cut-back failed too was "repaired" by truncating the file
    // but not the segment's size, so the next acknowledged append sat behind a hole of zeros.
    @Test func aFailedSyncWhoseCutBackFailsLeavesNoHole() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            let p = try await store.createTopic(named: "h", configuration: TopicConfiguration()).partitions[0]
            try await p.append([Record(value: bytes("a"))])
            faults.fail(.fdatasync, errno: EIO, pathSuffix: ".log")
            faults.fail(.ftruncate, errno: EIO, pathSuffix: ".log")
            await #expect(throws: LogError.self) { try await p.append([Record(value: bytes("b"))]) }
            faults.clear()
            await expectReadOnly(p)
            #expect(try await values(p) == ["a"])
            try await reopenCrashCopy(dir) { (r: LogStore) async throws in
                // "b" could not be cut off the file, so recovery may find it whole (it was
                // never acknowledged: a failed append's outcome is unknown, as in Kafka).
                // What matters: no hole, and new appends go right after what is there.
                let q = r.topic(named: "h")!.partitions[0]
                let found = try await values(q)
                #expect(found == ["a"] || found == ["a", "b"])
                #expect(try await q.append([Record(value: bytes("c"))]).first.rawValue == Int64(found.count))
                #expect(try await values(q) == found + ["c"])
            }
            try? await store.close()
        }
    }

    // Item 10, the write side: a failed write whose cut-back fails refuses writes instead of
    // repairing later around bytes nobody acknowledged.
    @Test func aFailedWriteWhoseCutBackFailsRefusesWrites() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            let p = try await store.createTopic(named: "w", configuration: TopicConfiguration()).partitions[0]
            try await p.append([Record(value: bytes("a"))])
            faults.fail(.pwrite, errno: ENOSPC, partialBytes: 20, pathSuffix: ".log")
            faults.fail(.ftruncate, errno: EIO, pathSuffix: ".log")
            await #expect(throws: LogError.self) { try await p.append([Record(value: bytes("b"))]) }
            await expectReadOnly(p)
            #expect(try await values(p) == ["a"])
            try await reopenCrashCopy(dir) { (r: LogStore) async throws in
                #expect(try await values(r.topic(named: "w")!.partitions[0]) == ["a"])
            }
            try? await store.close()
        }
    }

    // Item 11: a retry in the same group as its original was answered with the original's
    // offsets although the original failed.
    @Test func aRetryInTheSameGroupFollowsItsOriginal() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            let p = try await store.createTopic(named: "d", configuration: TopicConfiguration()).partitions[0]
            try await p.append([Record(value: bytes("a"))])
            let stamp = ProducerStamp(producerID: 9, epoch: 0, baseSequence: 0)
            faults.fail(.pwrite, errno: ENOSPC, pathSuffix: ".log")
            let failed = try await appendAsOneGroup(p, [([Record(value: bytes("dup"))], stamp), ([Record(value: bytes("dup"))], stamp)])
            expectRefused(failed[0])
            expectRefused(failed[1])
            #expect(p.endOffset == 1)
            // Space is back: the same pair is written once, and both get its offsets.
            let ok = try await appendAsOneGroup(p, [([Record(value: bytes("dup"))], stamp), ([Record(value: bytes("dup"))], stamp)])
            #expect(try ok[0].get() == OffsetRange(first: 1, end: 2))
            #expect(try ok[1].get() == OffsetRange(first: 1, end: 2))
            #expect(try await values(p) == ["a", "dup"])
            try await store.close()
        }
    }

    // Item 12: the flusher read the segment's size and the next offset at different moments,
    // and could checkpoint a position past a batch whose offsets it did not count, so that
    // after kill -9 those offsets were handed out again.
    @Test func theFlusherCheckpointsAPositionThatMatchesItsOffset() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) { $0.flushInterval = .milliseconds(3_600_000) }
            let p = try await store.createTopic(named: "f", configuration: TopicConfiguration(durability: .none)).partitions[0]
            try await p.append([Record(value: bytes("a"))])
            // An inline writer between its pwrite and its update of the next offset: the
            // segment knows the batch, the partition does not yet.
            let batch = try EncodedBatch(records: [Record(value: bytes("b"))], codec: .none, now: 0)
            var stamped = batch.bytes
            withUnsafeBytes(of: Int64(1).bigEndian) { for k in 0..<8 { stamped[k] = $0[k] } }
            let segment = p.state.withLock { $0.segments.last! }
            let at = segment.size
            try segment.log.write(stamped, at: at)
            segment.noteBatchWritten(baseOffset: 1, nextOffset: 2, position: at, size: stamped.count, maxTimestamp: 0,
                                     firstTimestamp: 0, indexInterval: 4096, now: 0)
            try p.syncNow()
            try p.writeCheckpointIfChanged()
            try await reopenCrashCopy(dir) { (r: LogStore) async throws in
                let q = r.topic(named: "f")!.partitions[0]
                #expect(q.endOffset == 2)
                #expect(try await values(q) == ["a", "b"])
            }
            try? await store.close()
        }
    }

    // Item 13: recovery made the unsynced tail visible without syncing it.
    @Test func recoverySyncsTheTailBeforeAnyoneReadsIt() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) { $0.flushInterval = .milliseconds(3_600_000) }
            let p = try await store.createTopic(named: "t", configuration: TopicConfiguration(durability: .none)).partitions[0]
            for i in 0..<10 { try await p.append([Record(value: bytes("r\(i)"))]) }
            let copy = try crashCopy(of: dir)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            let faults = FaultInjector()
            faults.startRecording()
            let r = try await openStore(copy, faults: faults)
            let synced = faults.recordedCalls.contains { $0.call == .fdatasync && $0.path.hasSuffix("/t/0/00000000000000000000.log") }
            #expect(synced, "recovery must fdatasync the scanned tail before it is readable")
            #expect(try await readAll(r.topic(named: "t")!.partitions[0]).count == 10)
            try await r.close()
            try await store.close()
        }
    }

    // Item 20: a new partition directory's entry must be synced in its topic directory.
    @Test func aNewPartitionDirectoryIsSyncedInItsTopicDirectory() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            faults.startRecording()
            _ = try await store.createTopic(named: "n", configuration: TopicConfiguration(partitions: 2))
            let calls = faults.recordedCalls
            for i in 0..<2 {
                let made = calls.firstIndex { $0.call == .mkdir && $0.path.hasSuffix("/topics/n/\(i)") }
                #expect(made != nil)
                let synced = calls.indices.contains { k in k > (made ?? .max) && calls[k].call == .fsyncDirectory && calls[k].path.hasSuffix("/topics/n") }
                #expect(synced, "partition \(i)'s directory entry was never synced")
            }
            try await store.close()
        }
    }

    // Item 20: a failed index write was swallowed and its entries counted as written, leaving
    // a hole in the index file.
    @Test func aFailedIndexWriteIsRetried() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            var configuration = TopicConfiguration()
            configuration.indexIntervalBytes = 100
            let p = try await store.createTopic(named: "x", configuration: configuration).partitions[0]
            for i in 0..<3 { try await p.append([Record(value: value(150, "a\(i)"))]) }
            faults.fail(.pwrite, errno: EIO, pathSuffix: ".index")
            for i in 0..<3 { try await p.append([Record(value: value(150, "b\(i)"))]) }
            let segment = p.state.withLock { $0.segments.last! }
            let (memory, _) = try segment.indexSnapshot()
            let file = try #require(try FileSystem.readFile(segment.paths.index))
            #expect(file == memory.encoded(), "the index file must hold every entry, with no hole")
            try await store.close()
        }
    }

    // Item 20: the data directory's lock file was opened and written around the seam.
    @Test func theLockFileGoesThroughTheFaultSeam() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            faults.fail(.open, errno: EACCES, pathSuffix: "/.lock")
            await #expect(throws: LogError.self) { _ = try await openStore(dir, faults: faults) }
            // Nothing stays locked or half-open: the next open works.
            let store = try await openStore(dir)
            try await store.close()
        }
    }
}
