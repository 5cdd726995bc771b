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
