import Foundation
import TestSupport
import Testing
@testable import EventLog

/// Batches received as bytes (Kafka's Produce) and served as bytes (Kafka's Fetch).
@Suite struct StoredBatchesTests {
    static func batch(_ values: [String], codec: CompressionCodec = .none, producer: ProducerStamp? = nil) throws -> [UInt8] {
        try EncodedBatch(records: values.map { Record(key: "k", value: bytes($0)) }, codec: codec, producer: producer, now: 1_700_000_000_000).bytes
    }

    /// Re-signs a batch after a change (the CRC covers bytes 21 … end).
    static func resign(_ b: inout [UInt8]) {
        let crc = b.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[21...])) }
        withUnsafeBytes(of: crc.bigEndian) { for i in 0..<4 { b[17 + i] = $0[i] } }
    }

    @Test func aReceivedBatchIsStoredAsItIsApartFromItsBaseOffset() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "t", creatingWith: TopicConfiguration()).partitions[0]
            try await p.append([Record(value: bytes("first"))])
            for codec in [CompressionCodec.none, .lz4, .zstd] {
                var sent = try Self.batch(["a", "b", "c"], codec: codec)
                // A Kafka client's leader epoch, kept as given.
                for i in 12..<16 { sent[i] = 0xff }
                let range = try await p.append(encoded: try EncodedBatch(received: sent))
                #expect(range.count == 3)
                let stored = try await p.readStoredBatches(from: range.first, maxBytes: 1 << 20)
                var expected = sent
                withUnsafeBytes(of: range.first.rawValue.bigEndian) { for i in 0..<8 { expected[i] = $0[i] } }
                #expect(stored.bytes == expected, "\(codec)")
                #expect(stored.nextOffset == range.end)
            }
            #expect(try await readAll(p).map { text($0.value)! } == ["first", "a", "b", "c", "a", "b", "c", "a", "b", "c"])
            try await store.close()
        }
    }

    @Test func idempotentRetriesOfAReceivedBatchAreStoredOnce() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "t", creatingWith: TopicConfiguration()).partitions[0]
            let sent = try Self.batch(["x", "y"], producer: ProducerStamp(producerID: 77, epoch: 0, baseSequence: 0))
            let first = try await p.append(encoded: try EncodedBatch(received: sent))
            let retry = try await p.append(encoded: try EncodedBatch(received: sent))
            #expect(first == retry && p.endOffset == 2)
            let gap = try Self.batch(["z"], producer: ProducerStamp(producerID: 77, epoch: 0, baseSequence: 5))
            await #expect(throws: LogError.self) { try await p.append(encoded: try EncodedBatch(received: gap)) }
            try await store.close()
        }
    }

    @Test func receivedBatchesThatTheReadersCouldNotReadAreRefused() throws {
        let good = try Self.batch(["a", "b"])
        func refusal(_ change: (inout [UInt8]) -> Void, resign: Bool = true) -> LogError.Code? {
            var b = good
            change(&b)
            if resign { Self.resign(&b) }
            do { _ = try EncodedBatch(received: b); return nil } catch { return error.code }
        }
        #expect(refusal({ _ in }) == nil)
        #expect(refusal({ $0[30] ^= 1 }, resign: false) == .corruptData)           // CRC
        #expect(refusal({ $0.append(0) }) == .corruptData)                         // length
        #expect(refusal({ $0[22] |= 1 }) == .unsupportedCodec)                     // gzip
        #expect(refusal({ $0[22] |= 0x20 }) == .invalidArgument)                   // control
        #expect(refusal({ $0[22] |= 0x10 }) == .invalidArgument)                   // transactional
        #expect(refusal({ $0[60] = 3; $0[26] = 2 }) == .corruptData)               // count 3, delta 2: one record missing
        #expect(refusal({ $0[61] = 0x7f }) == .corruptData)                        // a record's length
    }

    @Test func storedBatchesStartAtTheBatchHoldingTheOffsetAndRespectMaxBytes() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "t", creatingWith: TopicConfiguration()).partitions[0]
            for i in 0..<10 {
                try await p.append((0..<5).map { j in Record(value: bytes(String(repeating: "v", count: 100) + "\(i)-\(j)")) })
            }
            let one = try await p.readStoredBatches(from: 0, maxBytes: 1)
            let size = one.bytes.count
            #expect(size > 500 && one.nextOffset == 5)               // KIP-74: one whole batch, however small maxBytes
            let middle = try await p.readStoredBatches(from: 12, maxBytes: 2 * size)
            #expect(middle.bytes.count == 2 * size && middle.nextOffset == 20)
            #expect(middle.bytes.prefix(8) == [0, 0, 0, 0, 0, 0, 0, 10])  // the batch that holds 12 starts at 10
            let all = try await p.readStoredBatches(from: 0, maxBytes: 1 << 20)
            #expect(all.bytes.count == 10 * size && all.nextOffset == 50 && all.endOffset == 50)
            let atEnd = try await p.readStoredBatches(from: 50, maxBytes: 1 << 20)
            #expect(atEnd.bytes.isEmpty && atEnd.nextOffset == 50)
            do {
                _ = try await p.readStoredBatches(from: 51, maxBytes: 1 << 20)
                Issue.record("expected offsetOutOfRange")
            } catch let e as LogError {
                #expect(e.code == .offsetOutOfRange && e.range == OffsetRange(first: 0, end: 50))
            }
            try await store.close()
        }
    }

    @Test func storedBatchesCrossSegments() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            var configuration = TopicConfiguration(segmentBytes: 4096)
            configuration.indexIntervalBytes = 256
            let p = try await store.createTopic(named: "t", configuration: configuration).partitions[0]
            for i in 0..<60 { try await p.append([Record(value: bytes(String(repeating: "x", count: 200) + "\(i)"))]) }
            #expect(p.segmentCount > 2)
            var next = Offset(0)
            var seen = 0
            while next < p.endOffset {
                let r = try await p.readStoredBatches(from: next, maxBytes: 1000)
                #expect(!r.bytes.isEmpty)
                // Whole batches, each with a valid CRC, following each other densely.
                var at = 0
                var expectedBase = r.bytes.isEmpty ? 0 : try r.bytes.withUnsafeBytes { try RecordBatchHeader(parsing: $0).baseOffset }
                while at < r.bytes.count {
                    try r.bytes.withUnsafeBytes { raw in
                        let header = try RecordBatchHeader(parsing: UnsafeRawBufferPointer(rebasing: raw[at...]))
                        #expect(header.baseOffset == expectedBase)
                        #expect(RecordBatchHeader.checksumMatches(UnsafeRawBufferPointer(rebasing: raw[at..<at + header.totalSize])))
                        expectedBase = header.nextOffset
                        at += header.totalSize
                    }
                }
                #expect(at == r.bytes.count && expectedBase == r.nextOffset.rawValue)
                seen += Int(r.nextOffset.rawValue - next.rawValue)
                next = r.nextOffset
            }
            #expect(seen == 60)
            try await store.close()
        }
    }
}
