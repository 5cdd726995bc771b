import Foundation
import TestSupport
import Testing
@testable import EventLog

@Suite struct PartitionTests {
    @Test func appendAndReadBack() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "orders", configuration: TopicConfiguration(partitions: 2))
            let p = topic.partitions[1]
            let r1 = try await p.append([Record(key: "a", value: bytes("one"), headers: ["type": "t1"]), Record(value: nil)])
            #expect(r1 == OffsetRange(first: 0, end: 2))
            let r2 = try await p.append([Record(value: bytes("three"), timestamp: 42)])
            #expect(r2.first == 2)
            #expect(p.endOffset == 3 && p.startOffset == 0)
            let read = try await p.read(from: 0, maxRecords: 10)
            #expect(read.records.map(\.offset) == [0, 1, 2])
            #expect(text(read.records[0].value) == "one" && text(read.records[0].key) == "a")
            #expect(read.records[0].headers["type"] == "t1")
            #expect(read.records[1].value == nil && read.records[1].key == nil)
            #expect(read.records[2].timestamp == 42)
            #expect(read.nextOffset == 3)
            let tail = try await p.read(from: 3, maxRecords: 10)
            #expect(tail.records.isEmpty && tail.nextOffset == 3)
            try await store.close()
        }
    }

    @Test func outOfRangeReadsCarryTheRange() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "t", creatingWith: store.defaultTopicConfiguration).partitions[0]
            try await p.append([Record(value: bytes("x"))])
            do {
                _ = try await p.read(from: 5, maxRecords: 1)
                Issue.record("expected an error")
            } catch let e as LogError {
                #expect(e.code == .offsetOutOfRange)
                #expect(e.range == OffsetRange(first: 0, end: 1))
            }
            try await store.close()
        }
    }

    @Test(arguments: [CompressionCodec.none, .lz4, .zstd])
    func segmentsRollAndEveryOffsetIsFoundThroughTheIndex(codec: CompressionCodec) async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            var config = TopicConfiguration(compression: codec, durability: .none, segmentBytes: 2048)
            config.indexIntervalBytes = 256
            var rng = SplitMix64(seed: 5)
            let p = try await store.createTopic(named: "roll", configuration: config).partitions[0]
            var expected: [String] = []
            for batch in 0..<60 {
                let records = (0..<(batch % 7 + 1)).map { i in Record(value: bytes("b\(batch)-r\(i)-" + String((0..<batch * 3).map { _ in Character(UnicodeScalar(UInt8.random(in: 97...122, using: &rng))) }))) }
                expected += records.map { text($0.value)! }
                try await p.append(records)
            }
            #expect(p.segmentCount > 3)
            let segs = p.segments()
            #expect(segs.last!.isActive)
            for (a, b) in zip(segs, segs.dropFirst()) { #expect(a.endOffset == b.baseOffset) }
            // Every offset, including each segment's first and last and each index boundary.
            for o in 0..<expected.count {
                let r = try await p.read(from: Offset(Int64(o)), maxRecords: 1)
                #expect(r.records.count == 1)
                #expect(r.records.first?.offset == Offset(Int64(o)))
                #expect(text(r.records.first?.value) == expected[o])
            }
            let all = try await readAll(p)
            #expect(all.map { text($0.value)! } == expected)
            try await store.close()

            // Reopen cleanly: same data, still all reachable.
            let again = try await openStore(dir)
            #expect(again.openedAfterCleanShutdown)
            let q = again.topic(named: "roll")!.partitions[0]
            #expect(q.endOffset == Offset(Int64(expected.count)))
            #expect(try await readAll(q).map { text($0.value)! } == expected)
            try await again.close()
        }
    }

    @Test func readLimitsByRecordsAndBytes() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "t", creatingWith: store.defaultTopicConfiguration).partitions[0]
            for i in 0..<10 { try await p.append((0..<10).map { Record(value: bytes("\(i)-\($0)")) }) }
            let five = try await p.read(from: 3, maxRecords: 5)
            #expect(five.records.map(\.offset.rawValue) == [3, 4, 5, 6, 7] && five.nextOffset == 8)
            let small = try await p.read(from: 0, maxRecords: 1000, maxBytes: 1)
            #expect(small.records.count == 10) // at least one whole batch
            try await store.close()
        }
    }

    @Test func readByTimestamp() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            var config = TopicConfiguration(durability: .none, segmentBytes: 4096)
            config.indexIntervalBytes = 256
            let p = try await store.createTopic(named: "ts", configuration: config).partitions[0]
            for i in 0..<200 { try await p.append([Record(value: bytes(String(repeating: "v", count: 50)), timestamp: 1000 + Int64(i) * 10)]) }
            #expect(p.segmentCount > 2)
            for probe in stride(from: 995, through: 3000, by: 7) {
                let expected = probe <= 1000 ? 0 : min(200, (probe - 1000 + 9) / 10)
                #expect(try await p.offset(forTimestamp: Int64(probe)) == Offset(Int64(expected)), "probe \(probe)")
            }
            let tail = try await p.resolve(.timestamp(1995))
            #expect(tail == 100)
            try await store.close()
        }
    }

    /// Found by fuzzing: a second close joined the flusher's thread again (undefined behaviour;
    /// AddressSanitizer aborts). Closing twice, even concurrently, is harmless.
    @Test func closingTwiceIsHarmless() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            try await store.topic(named: "twice", creatingWith: store.defaultTopicConfiguration).partitions[0].append([Record(value: bytes("x"))])
            async let first: Void = store.close()
            async let second: Void = store.close()
            _ = try await (first, second)
            try await store.close()
            let again = try await openStore(dir)
            #expect(again.openedAfterCleanShutdown)
            try await again.close()
        }
    }

    @Test func secondOpenerIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            do {
                _ = try await openStore(dir)
                Issue.record("a second open must fail")
            } catch let e as LogError {
                #expect(e.code == .locked)
                #expect(e.message.contains(dir))
            }
            try await store.close()
            let again = try await openStore(dir)
            try await again.close()
        }
    }

    @Test func topicsPersistAndDelete() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            var cfg = TopicConfiguration(partitions: 3, compression: .lz4, durability: .interval(.milliseconds(50)), cleanupPolicy: [.compact, .delete], retention: .seconds(1))
            cfg.isInternal = true
            _ = try await store.createTopic(named: "__a.b_c-1", configuration: cfg)
            // Create-or-fail fails; create-if-missing returns the existing topic unchanged.
            await #expect { try await store.createTopic(named: "__a.b_c-1", configuration: cfg) } throws: { ($0 as? LogError)?.code == .topicExists }
            let again = try await store.topic(named: "__a.b_c-1", creatingWith: TopicConfiguration())
            #expect(again === store.topic(named: "__a.b_c-1") && again.configuration == cfg)
            _ = try await store.topic(named: "plain", creatingWith: store.defaultTopicConfiguration)
            #expect(store.topics().map(\.name) == ["plain"])
            #expect(store.topics(includeInternal: true).map(\.name) == ["__a.b_c-1", "plain"])
            for bad in ["", ".", "..", "a/b", "é", String(repeating: "x", count: 250)] {
                await #expect(throws: LogError.self) { try await store.createTopic(named: bad, configuration: TopicConfiguration()) }
            }
            _ = try await store.createTopic(named: String(repeating: "x", count: 249), configuration: TopicConfiguration())
            try await store.close()
            let reopened = try await openStore(dir)
            #expect(reopened.topic(named: "__a.b_c-1")?.configuration == cfg)
            try await reopened.deleteTopic(named: "plain")
            #expect(reopened.topic(named: "plain") == nil)
            await #expect(throws: LogError.self) { try await reopened.deleteTopic(named: "plain") }
            try await reopened.close()
            let third = try await openStore(dir)
            #expect(third.topic(named: "plain") == nil)
            try await third.close()
        }
    }

    @Test func idempotentProducerRetriesWriteNothing() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "idem", creatingWith: store.defaultTopicConfiguration).partitions[0]
            let stamp = ProducerStamp(producerID: 9, epoch: 0, baseSequence: 0)
            let first = try await p.append([Record(value: bytes("a")), Record(value: bytes("b"))], producer: stamp)
            let retry = try await p.append([Record(value: bytes("a")), Record(value: bytes("b"))], producer: stamp)
            #expect(first == retry)
            #expect(p.endOffset == 2)
            let next = try await p.append([Record(value: bytes("c"))], producer: ProducerStamp(producerID: 9, epoch: 0, baseSequence: 2))
            #expect(next.first == 2)
            await #expect(throws: LogError.self) {
                try await p.append([Record(value: bytes("gap"))], producer: ProducerStamp(producerID: 9, epoch: 0, baseSequence: 7))
            }
            await #expect(throws: LogError.self) {
                try await p.append([Record(value: bytes("old"))], producer: ProducerStamp(producerID: 9, epoch: -1, baseSequence: 0))
            }
            try await store.close()
            // Remembered across a clean restart and across a crash (rebuilt from the log).
            let again = try await openStore(dir)
            let q = again.topic(named: "idem")!.partitions[0]
            #expect(try await q.append([Record(value: bytes("c"))], producer: ProducerStamp(producerID: 9, epoch: 0, baseSequence: 2)) == next)
            let crashed = try crashCopy(of: dir)
            defer { try? FileManager.default.removeItem(atPath: crashed) }
            try await again.close()
            let recovered = try await openStore(crashed)
            let r = recovered.topic(named: "idem")!.partitions[0]
            #expect(try await r.append([Record(value: bytes("a")), Record(value: bytes("b"))], producer: stamp) == first)
            #expect(r.endOffset == 3)
            try await recovered.close()
        }
    }
}
