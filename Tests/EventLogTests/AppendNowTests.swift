import Foundation
import TestSupport
import Testing
@testable import EventLog

/// `Partition.appendNow(encoded:)`: written at once when nothing needs a wait, and otherwise
/// `nil` with nothing written, so that `append(encoded:)` of the same batch is the whole append.
@Suite struct AppendNowTests {
    @Test func underNoneDurabilityTheBatchIsWrittenAtOnce() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.createTopic(named: "now", configuration: TopicConfiguration(durability: .none)).partitions[0]
            let first = try #require(try p.appendNow(encoded: p.encode([Record(value: bytes("a")), Record(value: bytes("b"))])))
            let second = try #require(try p.appendNow(encoded: p.encode([Record(key: "k", value: bytes("c"))])))
            #expect(first == OffsetRange(first: 0, end: 2) && second == OffsetRange(first: 2, end: 3))
            #expect(try await readAll(p).map { text($0.value) } == ["a", "b", "c"])
            try await store.close()
        }
    }

    @Test func underFsyncDurabilityNothingIsWrittenAndTheWaitingAppendWritesTheBatch() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.createTopic(named: "sync", configuration: TopicConfiguration(durability: .fsync)).partitions[0]
            let batch = try p.encode([Record(value: bytes("x"))])
            #expect(try p.appendNow(encoded: batch) == nil)
            #expect(p.endOffset == 0)
            #expect(try await p.append(encoded: batch) == OffsetRange(first: 0, end: 1))
            #expect(try await readAll(p).map { text($0.value) } == ["x"])
            try await store.close()
        }
    }

    /// A batch that would roll the segment is the I/O threads' work (a roll syncs): `nil`, the
    /// segment unchanged, and the waiting append rolls and writes it.
    @Test func aBatchThatRollsTheSegmentIsLeftToTheWaitingAppend() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.createTopic(named: "roll", configuration: TopicConfiguration(durability: .none, segmentBytes: 1024)).partitions[0]
            var written = 0
            var fallbacks = 0
            for i in 0..<40 {
                let batch = try p.encode([Record(value: bytes(String(repeating: "v\(i)", count: 20)))])
                if let range = try p.appendNow(encoded: batch) {
                    #expect(range.first.rawValue == Int64(written))
                } else {
                    fallbacks += 1
                    #expect(p.endOffset.rawValue == Int64(written))
                    #expect(try await p.append(encoded: batch).first.rawValue == Int64(written))
                }
                written += 1
            }
            #expect(fallbacks > 0 && p.segmentCount > 1)
            #expect(try await readAll(p).count == 40)
            try await store.close()
        }
    }

    /// Refusals are errors, never `nil`: a caller that took `nil` as "wait" would append to an
    /// internal topic or a closed partition.
    @Test func refusalsThrow() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            var inside = TopicConfiguration(durability: .none)
            inside.isInternal = true
            let p = try await store.createTopic(named: "__inside", configuration: inside).partitions[0]
            #expect(throws: LogError.self) { try p.appendNow(encoded: p.encode([Record(value: bytes("x"))])) }
            var small = TopicConfiguration(durability: .none)
            small.maxBatchBytes = 100
            let q = try await store.createTopic(named: "small", configuration: small).partitions[0]
            let big = try q.encode([Record(value: bytes(String(repeating: "x", count: 500)))])
            #expect { try q.appendNow(encoded: big) } throws: { ($0 as? LogError)?.code == .recordTooLarge }
            try await store.close()
            #expect { try q.appendNow(encoded: q.encode([Record(value: bytes("y"))])) } throws: { ($0 as? LogError)?.code == .closed }
        }
    }
}

/// `Partition.appendNow(encoded:)` of several batches: each appended as if by its own call,
/// in order, all in one write.
@Suite struct AppendNowManyTests {
    @Test func theBatchesGetConsecutiveOffsetsInOrderAndOneWrite() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.createTopic(named: "many", configuration: TopicConfiguration(durability: .none)).partitions[0]
            _ = try #require(try p.appendNow(encoded: p.encode([Record(value: bytes("first"))])))
            let before = p.statistics
            let batches = try (0..<5).map { i in try p.encode((0...i).map { j in Record(value: bytes("\(i).\(j)")) }) }
            let results = try #require(try p.appendNow(encoded: batches))
            let ranges = try results.map { try $0.get() }
            // 1 + 2 + 3 + 4 + 5 records after the first one.
            #expect(ranges == [OffsetRange(first: 1, end: 2), OffsetRange(first: 2, end: 4), OffsetRange(first: 4, end: 7),
                               OffsetRange(first: 7, end: 11), OffsetRange(first: 11, end: 16)])
            let after = p.statistics
            #expect(after.writes - before.writes == 1)
            #expect(after.appendedBatches - before.appendedBatches == 5)
            let expected = ["first"] + (0..<5).flatMap { i in (0...i).map { j in "\(i).\(j)" } }
            #expect(try await readAll(p).map { text($0.value) } == expected)
            try await store.close()
            // Reopened, the batches are there: each its own batch, each whole.
            let reopened = try await openStore(dir)
            #expect(try await readAll(reopened.topic(named: "many")!.partitions[0]).map { text($0.value) } == expected)
            try await reopened.close()
        }
    }

    /// A batch over the topic's limit is refused alone; the others are appended around it.
    @Test func aBatchTooLargeIsRefusedAndTheOthersAreAppended() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let (p, batches) = try await smallBatchesPartition(store, durability: .none, first: ["a"], last: "b")
            let results = try #require(try p.appendNow(encoded: batches))
            #expect(try results[0].get() == OffsetRange(first: 0, end: 1))
            #expect { try results[1].get() } throws: { ($0 as? LogError)?.code == .recordTooLarge }
            #expect(try results[2].get() == OffsetRange(first: 1, end: 2))
            #expect(try await readAll(p).map { text($0.value) } == ["a", "b"])
            let allTooLarge = try #require(try p.appendNow(encoded: [batches[1]]))
            #expect { try allTooLarge[0].get() } throws: { ($0 as? LogError)?.code == .recordTooLarge }
            #expect(p.endOffset == 2)
            try await store.close()
        }
    }

    /// `nil` (nothing written) when the appends would wait: under `fsync`, or when together
    /// they would roll the segment; an empty list is appended at once.
    @Test func whenTheAppendsWouldWaitNothingIsWritten() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let synced = try await store.createTopic(named: "sync", configuration: TopicConfiguration(durability: .fsync)).partitions[0]
            #expect(try synced.appendNow(encoded: [synced.encode([Record(value: bytes("x"))])]) == nil)
            #expect(synced.endOffset == 0)
            let p = try await store.createTopic(named: "roll", configuration: TopicConfiguration(durability: .none, segmentBytes: 1024)).partitions[0]
            let batches = try (0..<20).map { i in try p.encode([Record(value: bytes(String(repeating: "v\(i)", count: 20)))]) }
            #expect(try p.appendNow(encoded: batches) == nil)
            #expect(p.endOffset == 0 && p.statistics.writes == 0)
            #expect(try p.appendNow(encoded: [])?.isEmpty == true)
            for batch in batches { _ = try await p.append(encoded: batch) }
            #expect(try await readAll(p).count == 20)
            try await store.close()
            #expect { try p.appendNow(encoded: batches) } throws: { ($0 as? LogError)?.code == .closed }
        }
    }
}

/// `Partition.append(encoded:completion:)`: queued for the writer together, every result
/// handed to one callback, in order, once decided.
@Suite struct AppendWithCompletionTests {
    /// Waits for the callback's results (at most 10 s).
    static func results(_ p: Partition, _ batches: [EncodedBatch]) async -> [Result<OffsetRange, any Error>] {
        await withCheckedContinuation { continuation in
            p.append(encoded: batches) { continuation.resume(returning: $0) }
        }
    }

    @Test func underFsyncTheBatchesAreWrittenAndSyncedTogether() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let (p, batches) = try await smallBatchesPartition(store, durability: .fsync, first: ["a", "b"], last: "c")
            let before = p.statistics
            let results = await Self.results(p, batches)
            #expect(results.count == 3)
            #expect(try results[0].get() == OffsetRange(first: 0, end: 2))
            #expect { try results[1].get() } throws: { ($0 as? LogError)?.code == .recordTooLarge }
            #expect(try results[2].get() == OffsetRange(first: 2, end: 3))
            let after = p.statistics
            #expect(after.writes - before.writes == 1 && after.syncs - before.syncs == 1)
            #expect(try await readAll(p).map { text($0.value) } == ["a", "b", "c"])
            #expect(await Self.results(p, []).isEmpty)
            try await store.close()
            // A closed partition refuses them all.
            let refused = await Self.results(p, [batches[0], batches[2]])
            #expect(refused.count == 2 && refused.allSatisfy { result in
                if case .failure(let error) = result { return (error as? LogError)?.code == .closed }
                return false
            })
        }
    }

    @Test func anInternalTopicRefusesThemAll() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            var inside = TopicConfiguration(durability: .none)
            inside.isInternal = true
            let p = try await store.createTopic(named: "__inside", configuration: inside).partitions[0]
            let results = await Self.results(p, [try p.encode([Record(value: bytes("x"))])])
            #expect(results.count == 1)
            #expect { try results[0].get() } throws: { ($0 as? LogError)?.code == .internalTopic }
            #expect(p.endOffset == 0)
            try await store.close()
        }
    }
}

/// A partition of a topic whose batches may hold at most 200 bytes, and three batches for it:
/// one of the records `first`, one record of 500 bytes (too large), one record `last`.
private func smallBatchesPartition(_ store: LogStore, durability: Durability, first: [String], last: String) async throws -> (Partition, [EncodedBatch]) {
    var configuration = TopicConfiguration(durability: durability)
    configuration.maxBatchBytes = 200
    let p = try await store.createTopic(named: "small", configuration: configuration).partitions[0]
    let batches = try [p.encode(first.map { Record(value: bytes($0)) }),
                       p.encode([Record(value: bytes(String(repeating: "x", count: 500)))]),
                       p.encode([Record(value: bytes(last))])]
    return (p, batches)
}
