import KafkaProtocol
import Testing

/// Validation and re-stamping of produced record batches, on a batch kcat sent (5 records,
/// no codec), changed one field at a time.
@Suite struct ProducedBatchTests {
    static let kcatBatch: [UInt8] = Array(try! GoldenTests.records(in: "kcat-produce"))

    /// The batch with `change` applied and, when `resign`, its CRC recomputed, so that the
    /// check after the CRC is the one that fails.
    static func batch(resign: Bool = true, _ change: (inout [UInt8]) -> Void) -> ArraySlice<UInt8> {
        var bytes = kcatBatch
        change(&bytes)
        if resign {
            let crc = ProducedBatch.checksum(bytes[...])
            withUnsafeBytes(of: crc.bigEndian) { for i in 0..<4 { bytes[17 + i] = $0[i] } }
        }
        return bytes[...]
    }

    static func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { for i in 0..<MemoryLayout<T>.size { bytes[offset + i] = $0[i] } }
    }

    static func refusal(_ records: ArraySlice<UInt8>?, max: Int = 1 << 20) throws -> KafkaProtocolError {
        try #require(throws: KafkaProtocolError.self) { _ = try ProducedBatch(validating: records, maxBatchBytes: max) }
    }

    @Test func theCapturedBatchIsValid() throws {
        let batch = try ProducedBatch(validating: Self.kcatBatch[...], maxBatchBytes: 1 << 20)
        #expect(batch.recordCount == 5 && batch.codec == .none && batch.producerId == -1 && !batch.usesLogAppendTime)
        #expect(batch.maxTimestamp >= batch.baseTimestamp)
    }

    /// The CRC covers bytes 21 … end (from the attributes on): baseOffset, batchLength,
    /// partitionLeaderEpoch and magic are outside it, the CRC's own bytes and everything after
    /// are inside.
    @Test func theChecksumCoversFromTheAttributesOn() {
        for offset in 0..<Self.kcatBatch.count {
            let changed = Self.batch(resign: false) { $0[offset] ^= 0x01 }
            #expect(ProducedBatch.checksumMatches(changed) == (offset < 17), "byte \(offset)")
        }
    }

    @Test func restampingKeepsTheClientsChecksum() throws {
        var bytes = Self.kcatBatch
        let before = ProducedBatch.checksum(bytes[...])
        for offset in [Int64(0), 1, 4_000_000_000, Int64.max - 4] {
            ProducedBatch.restamp(&bytes, baseOffset: offset)
            #expect(ProducedBatch.baseOffset(of: bytes[...]) == offset)
            #expect(ProducedBatch.partitionLeaderEpoch(of: bytes[...]) == -1)
            #expect(ProducedBatch.checksum(bytes[...]) == before)
            #expect(ProducedBatch.checksumMatches(bytes[...]))
            _ = try ProducedBatch(validating: bytes[...], maxBatchBytes: 1 << 20)
        }
        // In place within a larger buffer (a frame), through a slice.
        var frame = [UInt8](repeating: 0xAA, count: 7) + Self.kcatBatch
        ProducedBatch.restamp(&frame[7...], baseOffset: 42)
        #expect(frame.prefix(7).allSatisfy { $0 == 0xAA })
        #expect(ProducedBatch.baseOffset(of: frame[7...]) == 42 && ProducedBatch.checksumMatches(frame[7...]))
    }

    /// A mirror forwards a fetched batch under its own idempotent producer: id, epoch and base
    /// sequence change, the CRC is recomputed, and the records' bytes stay as they were.
    @Test func stampingAProducerResignsTheBatchAndKeepsTheRecords() throws {
        var bytes = Self.kcatBatch
        ProducedBatch.stampProducer(&bytes, producerId: 4242, epoch: 3, baseSequence: 17)
        let batch = try ProducedBatch(validating: bytes[...], maxBatchBytes: 1 << 20)
        #expect(batch.producerId == 4242 && batch.producerEpoch == 3 && batch.baseSequence == 17)
        #expect(batch.recordCount == 5)
        #expect(bytes[57...] == Self.kcatBatch[57...], "records untouched")
        #expect(bytes[21..<43] == Self.kcatBatch[21..<43], "attributes, offset delta and timestamps untouched")
        #expect(ProducedBatch.checksum(bytes[...]) != ProducedBatch.checksum(Self.kcatBatch[...]))
    }

    @Test func aDamagedChecksumIsCorrupt() throws {
        let error = try Self.refusal(Self.batch(resign: false) { $0[70] ^= 0x40 })
        #expect(error.code == .corruptBatch && error.kafkaErrorCode == .corruptMessage)
        #expect(error.message.contains("CRC32C"))
    }

    @Test func theMagicMustBe2() throws {
        for magic in [Int8(0), 1, 3] {
            let error = try Self.refusal(Self.batch { $0[16] = UInt8(bitPattern: magic) })
            #expect(error.code == .corruptBatch && error.message.contains("magic \(magic)"))
        }
    }

    @Test func theLengthMustMatchOneWholeBatch() throws {
        // Shorter than a header, empty, null.
        for records in [Self.kcatBatch.prefix(60), [], nil] as [ArraySlice<UInt8>?] {
            #expect(try Self.refusal(records).code == .corruptBatch)
        }
        // batchLength off by one either way, a truncated batch, two batches in one partition.
        #expect(try Self.refusal(Self.batch { Self.put(Int32($0.count - 11), at: 8, in: &$0) }).message.contains("batch length"))
        #expect(try Self.refusal(Self.batch { Self.put(Int32($0.count - 13), at: 8, in: &$0) }).code == .corruptBatch)
        #expect(try Self.refusal(Self.kcatBatch.dropLast(1)).code == .corruptBatch)
        #expect(try Self.refusal((Self.kcatBatch + Self.kcatBatch)[...]).message.contains("exactly one record batch"))
    }

    @Test func theLastOffsetDeltaMustMatchTheCount() throws {
        let error = try Self.refusal(Self.batch { Self.put(Int32(3), at: 23, in: &$0) })
        #expect(error.code == .corruptBatch && error.message.contains("last offset delta 3"))
        let empty = try Self.refusal(Self.batch { Self.put(Int32(0), at: 57, in: &$0); Self.put(Int32(-1), at: 23, in: &$0) })
        #expect(empty.code == .corruptBatch)
    }

    @Test func controlAndTransactionalBatchesAreInvalidRecords() throws {
        for bit in [UInt8(0x20), 0x10] {
            let error = try Self.refusal(Self.batch { $0[22] |= bit })
            #expect(error.code == .invalidRecord && error.kafkaErrorCode.rawValue == 87)
        }
    }

    @Test func gzipAndSnappyAreUnsupportedAndUnknownCodecsCorrupt() throws {
        for (codec, code) in [(UInt8(1), KafkaProtocolError.Code.unsupportedCompression), (2, .unsupportedCompression),
                              (5, .corruptBatch), (6, .corruptBatch), (7, .corruptBatch)] {
            let error = try Self.refusal(Self.batch { $0[22] = $0[22] & ~0x07 | codec })
            #expect(error.code == code, "codec \(codec)")
        }
        #expect(try Self.refusal(Self.batch { $0[22] |= 1 }).kafkaErrorCode.rawValue == 76)
    }

    @Test func aBatchOverTheMaximumIsTooLarge() throws {
        let error = try Self.refusal(Self.kcatBatch[...], max: Self.kcatBatch.count - 1)
        #expect(error.code == .batchTooLarge && error.kafkaErrorCode == .messageTooLarge)
        _ = try ProducedBatch(validating: Self.kcatBatch[...], maxBatchBytes: Self.kcatBatch.count)
    }

    @Test func logAppendTimeIsReported() throws {
        let batch = try ProducedBatch(validating: Self.batch { $0[22] |= 0x08 }, maxBatchBytes: 1 << 20)
        #expect(batch.usesLogAppendTime)
    }
}
