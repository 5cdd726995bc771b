import TestSupport
import Testing
@testable import EventLog
import CCRC32C
import CLZ4

@Suite struct RecordBatchTests {
    @Test func crc32cKnownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    /// Lengths around the three-stream blocks (3 × 256 and 3 × 4096 bytes) as well as small ones.
    @Test(arguments: [0, 1, 7, 8, 9, 63, 64, 65, 767, 768, 769, 775, 1000, 1536, 4096, 12_287, 12_288, 12_295, 13_056, 100_003])
    func crc32cHardwareMatchesPortable(length: Int) {
        var rng = SplitMix64(seed: UInt64(length))
        let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let portable = data.withUnsafeBytes { eventlog_crc32c_extend_portable(0, $0.baseAddress, $0.count) }
        #expect(CRC32C.checksum(data) == portable)
        // From every start alignment (the head is done a byte at a time up to 8-byte alignment).
        for skip in (0..<min(9, length)).dropFirst() {
            let (hardware, expected) = data.withUnsafeBytes { raw in
                let tail = UnsafeRawBufferPointer(rebasing: raw[skip...])
                return (CRC32C.checksum(tail), eventlog_crc32c_extend_portable(0, tail.baseAddress, tail.count))
            }
            #expect(hardware == expected)
        }
        // Chaining equals one pass.
        let half = length / 2
        let chained = data.withUnsafeBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[half...]), extending: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[..<half])))
        }
        #expect(chained == portable)
    }

    @Test func varintRoundTrip() throws {
        let values: [Int64] = [0, 1, -1, 63, -64, 64, -65, 300, -300, Int64(Int32.max), Int64(Int32.min), .max, .min]
        for v in values {
            var w = ByteWriter()
            w.writeVarint(v)
            #expect(w.count == varintSize(v))
            let decoded = try w.bytes.withUnsafeBytes { raw in
                var r = ByteReader(raw)
                return try r.readVarint()
            }
            #expect(decoded == v)
        }
        // Kafka's zig-zag: 1 -> 0x02, -1 -> 0x01, 64 -> 0x80 0x01.
        var w = ByteWriter(); w.writeVarint(1); w.writeVarint(-1); w.writeVarint(64)
        #expect(w.bytes == [0x02, 0x01, 0x80, 0x01])
    }

    @Test(arguments: CompressionCodec.allCases)
    func batchRoundTripProperty(codec: CompressionCodec) throws {
        for seed in UInt64(1)...40 {
            var rng = SplitMix64(seed: seed &* 7919)
            let records = (0..<Int.random(in: 1...60, using: &rng)).map { _ in randomRecord(&rng) }
            let batch = try EncodedBatch(records: records, codec: codec, now: 1_700_000_000_000)
            var bytes = batch.bytes
            // Stamp a base offset as the writer does: outside the CRC.
            withUnsafeBytes(of: Int64(1234).bigEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
            try bytes.withUnsafeBytes { raw in
                let header = try RecordBatchHeader(parsing: raw)
                #expect(header.totalSize == bytes.count, "seed \(seed)")
                #expect(header.codec == codec)
                #expect(header.recordCount == Int32(records.count))
                #expect(RecordBatchHeader.checksumMatches(raw), "seed \(seed)")
                let decoded = try header.records(in: raw)
                #expect(decoded.count == records.count)
                for (i, (r, d)) in zip(records, decoded).enumerated() {
                    #expect(d.offset == Offset(1234 + Int64(i)))
                    #expect(d.key == r.key && d.value == r.value && d.headers == r.headers, "seed \(seed) record \(i)")
                    #expect(d.timestamp == (r.timestamp ?? 1_700_000_000_000))
                }
                #expect(header.maxTimestamp == decoded.map(\.timestamp).max())
            }
        }
    }

    @Test func headerLayoutIsKafkaV2() throws {
        let batch = try EncodedBatch(records: [Record(key: bytes("k"), value: bytes("v"))], codec: .none,
                                     producer: ProducerStamp(producerID: 7, epoch: 2, baseSequence: 5), now: 1000)
        let b = batch.bytes
        #expect(b[16] == 2) // magic
        #expect(Array(b[43..<51]) == [0, 0, 0, 0, 0, 0, 0, 7]) // producer id
        #expect(Array(b[51..<53]) == [0, 2]) // producer epoch
        #expect(Array(b[53..<57]) == [0, 0, 0, 5]) // base sequence
        #expect(Array(b[57..<61]) == [0, 0, 0, 1]) // record count
        let length = b[8..<12].reduce(0) { $0 << 8 | Int($1) }
        #expect(length == b.count - 12)
    }

    @Test func everyFlippedByteIsCaughtByTheChecksumOrFraming() throws {
        let records = (0..<5).map { Record(key: bytes("k\($0)"), value: bytes("value \($0)")) }
        let original = try EncodedBatch(records: records, codec: .none, now: 5).bytes
        for i in RecordBatchHeader.crcStart..<original.count {
            var damaged = original
            damaged[i] ^= 0x40
            let ok = damaged.withUnsafeBytes { RecordBatchHeader.checksumMatches($0) }
            #expect(!ok, "flip at \(i) not detected")
        }
    }

    @Test(arguments: [CompressionCodec.lz4, .zstd])
    func compressedBatchesAreSmallerForRepetitiveData(codec: CompressionCodec) throws {
        let records = (0..<200).map { Record(value: bytes("{\"event\":\"order.placed\",\"n\":\($0)}")) }
        let plain = try EncodedBatch(records: records, codec: .none, now: 1).bytes.count
        let packed = try EncodedBatch(records: records, codec: codec, now: 1).bytes.count
        #expect(packed * 2 < plain)
    }

    /// Frames written by other producers, or by EventLog before independent blocks: linked
    /// blocks, several of them, no content size, a content checksum.
    @Test func lz4FramesWithLinkedBlocksAndNoContentSizeDecode() throws {
        var rng = SystemRandomNumberGenerator()
        let words = ["order", "placed", "shipped", "user-", "{\"id\":", "},"]
        var input: [UInt8] = []
        while input.count < 300_000 { input += Array(words[Int(rng.next() % UInt64(words.count))].utf8) }
        var prefs = LZ4F_preferences_t()
        prefs.frameInfo.blockMode = LZ4F_blockLinked
        prefs.frameInfo.blockSizeID = LZ4F_max64KB
        prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        var frame = [UInt8](repeating: 0, count: LZ4F_compressFrameBound(input.count, &prefs))
        let written = frame.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { LZ4F_compressFrame(out.baseAddress, out.count, $0.baseAddress, $0.count, &prefs) }
        }
        #expect(LZ4F_isError(written) == 0)
        frame.removeLast(frame.count - written)
        let decoded = try frame.withUnsafeBytes { try Compression.decompress($0, codec: .lz4) }
        #expect(decoded == input)
    }

    @Test func truncatedAndGarbageInputThrowsInsteadOfCrashing() throws {
        let good = try EncodedBatch(records: [Record(value: bytes("hello"))], codec: .zstd, now: 1).bytes
        for cut in 0..<good.count {
            let part = Array(good[..<cut])
            _ = try? part.withUnsafeBytes { raw in
                let h = try RecordBatchHeader(parsing: raw)
                _ = try h.records(in: raw)
            }
        }
        var rng = SplitMix64(seed: 99)
        for _ in 0..<500 {
            var junk = good
            for _ in 0..<4 { junk[Int.random(in: 0..<junk.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            _ = try? junk.withUnsafeBytes { raw in
                let h = try RecordBatchHeader(parsing: raw)
                _ = try h.records(in: raw)
            }
        }
    }

    @Test func unsupportedCodecsAreRefusedClearly() throws {
        var b = try EncodedBatch(records: [Record(value: bytes("x"))], codec: .none, now: 1).bytes
        b[22] = 1 // gzip
        #expect(throws: LogError.self) {
            try b.withUnsafeBytes { raw in _ = try RecordBatchHeader(parsing: raw).records(in: raw) }
        }
        do {
            try b.withUnsafeBytes { raw in _ = try RecordBatchHeader(parsing: raw).records(in: raw) }
        } catch let e as LogError {
            #expect(e.code == .unsupportedCodec)
        }
    }

    @Test func murmur2MatchesKafka() {
        // Values from Kafka's UtilsTest.testMurmur2.
        let cases: [(String, Int32)] = [
            ("21", -973932308), ("foobar", -790332482), ("a-little-bit-long-string", -985981536),
            ("a-little-bit-longer-string", -1486304829), ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        ]
        for (s, expected) in cases {
            #expect(Int32(bitPattern: Murmur2.hash(Array(s.utf8))) == expected, "\(s)")
        }
    }
}
