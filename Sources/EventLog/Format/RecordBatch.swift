/// The fixed header of a Kafka record batch, magic 2, as it sits at the start of every batch.
///
/// Byte layout (big-endian; see Docs/FORMAT.md):
/// ```
///  0 baseOffset int64      8 batchLength int32     12 partitionLeaderEpoch int32
/// 16 magic int8 (2)       17 crc uint32 (CRC32C of bytes 21..<end)
/// 21 attributes int16     23 lastOffsetDelta int32  27 baseTimestamp int64
/// 35 maxTimestamp int64   43 producerId int64       51 producerEpoch int16
/// 53 baseSequence int32   57 recordCount int32      61 records…
/// ```
package struct RecordBatchHeader: Hashable, Sendable {
    /// Size of the fixed header in bytes.
    package static let size = 61
    /// Bytes before `batchLength`'s count starts (baseOffset and batchLength itself).
    package static let logOverhead = 12
    /// Where the CRC32C'd bytes start.
    package static let crcStart = 21
    /// Where the CRC field sits.
    package static let crcOffset = 17
    /// The only magic this format accepts.
    package static let magic: Int8 = 2

    /// The offset of the batch's first record.
    package var baseOffset: Int64
    /// The number of bytes after the `batchLength` field.
    package var batchLength: Int32
    /// Kafka's partition leader epoch; EventLog writes 0.
    package var partitionLeaderEpoch: Int32
    /// Always 2.
    package var magic: Int8
    /// CRC32C of everything from `attributes` to the end of the batch.
    package var crc: UInt32
    /// Bits 0–2 the codec; bit 3 timestamp type; bit 4 transactional; bit 5 control.
    package var attributes: Int16
    /// `lastOffset - baseOffset`.
    package var lastOffsetDelta: Int32
    /// The first record's timestamp (ms).
    package var baseTimestamp: Int64
    /// The largest timestamp in the batch (ms).
    package var maxTimestamp: Int64
    /// The idempotent producer's id, or -1.
    package var producerID: Int64
    /// The idempotent producer's epoch, or -1.
    package var producerEpoch: Int16
    /// The producer's sequence number of the first record, or -1.
    package var baseSequence: Int32
    /// How many records the batch holds.
    package var recordCount: Int32

    /// The whole batch's size in bytes, header included.
    package var totalSize: Int { Int(batchLength) + Self.logOverhead }
    /// The offset of the last record.
    package var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    /// The offset after the last record.
    package var nextOffset: Int64 { lastOffset + 1 }
    /// The raw codec id in the attributes.
    package var codecID: Int { Int(attributes & 0x7) }
    /// The codec, or `nil` for one this build does not support.
    package var codec: CompressionCodec? { CompressionCodec(rawValue: UInt8(codecID)) }
    /// Whether the batch is a transaction control batch (never written by EventLog).
    package var isControl: Bool { attributes & 0x20 != 0 }

    /// Parses the fixed header, checking only what the header alone can show.
    ///
    /// - Throws: ``LogError/Code/corruptData`` when fewer than 61 bytes are given, the magic is
    ///   not 2, or the length cannot hold the header.
    package init(parsing bytes: UnsafeRawBufferPointer) throws(LogError) {
        guard bytes.count >= Self.size else {
            throw LogError(.corruptData, "a batch header needs \(Self.size) bytes, only \(bytes.count) remain.")
        }
        var r = ByteReader(bytes)
        baseOffset = try r.readInteger()
        batchLength = try r.readInteger()
        partitionLeaderEpoch = try r.readInteger()
        magic = Int8(bitPattern: try r.readByte())
        crc = try r.readInteger()
        attributes = try r.readInteger()
        lastOffsetDelta = try r.readInteger()
        baseTimestamp = try r.readInteger()
        maxTimestamp = try r.readInteger()
        producerID = try r.readInteger()
        producerEpoch = try r.readInteger()
        baseSequence = try r.readInteger()
        recordCount = try r.readInteger()
        guard magic == Self.magic else {
            throw LogError(.corruptData, "a batch has magic \(magic), expected 2.")
        }
        guard Int(batchLength) >= Self.size - Self.logOverhead else {
            throw LogError(.corruptData, "a batch declares length \(batchLength), shorter than its header.")
        }
        guard lastOffsetDelta >= 0, recordCount >= 0 else {
            throw LogError(.corruptData, "a batch declares a negative record count or offset delta.")
        }
        // Offsets are never negative, and the batch's last offset plus one must still be one.
        guard baseOffset >= 0, baseOffset < Int64.max - Int64(lastOffsetDelta) else {
            throw LogError(.corruptData, "a batch declares base offset \(baseOffset) with last delta \(lastOffsetDelta), outside the offsets a log can hold.")
        }
    }

    /// Whether the stored CRC matches the batch's bytes (`batch` is the whole batch).
    package static func checksumMatches(_ batch: UnsafeRawBufferPointer) -> Bool {
        guard batch.count >= size else { return false }
        let stored = UInt32(bigEndian: batch.loadUnaligned(fromByteOffset: crcOffset, as: UInt32.self))
        return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: batch[crcStart...])) == stored
    }
}
