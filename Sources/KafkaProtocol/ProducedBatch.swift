internal import CCRC32C

/// A record batch v2 (magic 2) that a client sent in a Produce request, validated; and the
/// re-stamping a broker does before it appends the batch as it is.
///
/// The layout (big-endian; Kafka's `DefaultRecordBatch`):
///
/// | offset | size | field | |
/// |---|---|---|---|
/// | 0 | 8 | baseOffset | not covered by the CRC |
/// | 8 | 4 | batchLength (= size − 12) | not covered |
/// | 12 | 4 | partitionLeaderEpoch | not covered |
/// | 16 | 1 | magic = 2 | not covered |
/// | 17 | 4 | crc: CRC32C of bytes 21 … end | |
/// | 21 | 2 | attributes: codec (bits 0–2), timestamp type (3), transactional (4), control (5) | covered |
/// | 23 | 4 | lastOffsetDelta (= count − 1) | covered |
/// | 27 | 8, 8 | baseTimestamp, maxTimestamp | covered |
/// | 43 | 8, 2, 4 | producerId, producerEpoch, baseSequence | covered |
/// | 57 | 4 | record count | covered |
/// | 61 | … | records (compressed as one block when a codec is set) | covered |
///
/// The CRC covers everything from the attributes on (`DefaultRecordBatch.computeChecksum`), so
/// a broker can assign the base offset and the leader epoch with ``restamp(_:baseOffset:)``
/// without recomputing it, and the client's CRC stays valid.
public struct ProducedBatch: Sendable, Equatable {
    /// The compression codec of a batch (attribute bits 0–2).
    public enum Codec: Int16, Sendable {
        case none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4
    }

    /// The bytes before the records: the batch header.
    public static let headerBytes = 61
    /// The first byte the CRC covers (the attributes).
    public static let checksummedFrom = 21

    /// The batch's size in bytes (batchLength + 12).
    public var byteCount: Int
    /// How many records the batch holds.
    public var recordCount: Int32
    /// The batch's codec: `.none`, `.lz4` or `.zstd` (others are refused).
    public var codec: Codec
    /// Whether the timestamps are the broker's append time (attribute bit 3) rather than the
    /// producer's create time.
    public var usesLogAppendTime: Bool
    /// The first record's timestamp (ms).
    public var baseTimestamp: Int64
    /// The largest record timestamp (ms).
    public var maxTimestamp: Int64
    /// The idempotent producer's id, or -1.
    public var producerId: Int64
    /// The idempotent producer's epoch, or -1.
    public var producerEpoch: Int16
    /// The sequence number of the first record, or -1.
    public var baseSequence: Int32

    /// Validates `records`, the `Records` field of one partition of a Produce request.
    ///
    /// Checks, in order: one whole batch (size at least the header, batchLength + 12 equal to
    /// the bytes given, at most `maxBatchBytes`), magic 2, the CRC32C of bytes 21 … end, not a
    /// control batch, not transactional (logd has no transactions), a codec of none, lz4 or
    /// zstd, at least one record and lastOffsetDelta = count − 1.
    ///
    /// - Throws: ``KafkaProtocolError`` with code `batchTooLarge` (MESSAGE_TOO_LARGE),
    ///   `unsupportedCompression` for gzip and snappy (UNSUPPORTED_COMPRESSION_TYPE, 76),
    ///   `invalidRecord` for a control or transactional batch (INVALID_RECORD), and
    ///   `corruptBatch` (CORRUPT_MESSAGE) for everything else; its
    ///   ``KafkaProtocolError/kafkaErrorCode`` is the partition's error code.
    public init(validating records: ArraySlice<UInt8>?, maxBatchBytes: Int) throws(KafkaProtocolError) {
        guard let records, !records.isEmpty else {
            throw KafkaProtocolError(.corruptBatch, "the partition's records are empty; one record batch was expected.")
        }
        guard records.count >= Self.headerBytes else {
            throw KafkaProtocolError(.corruptBatch, "\(records.count) bytes are shorter than the \(Self.headerBytes)-byte header of a record batch.")
        }
        guard records.count <= maxBatchBytes else {
            throw KafkaProtocolError(.batchTooLarge, "a record batch of \(records.count) bytes is larger than the maximum of \(maxBatchBytes).")
        }
        let field = FieldReader(records)
        let batchLength = field.int32(at: 8)
        guard Int(batchLength) == records.count - 12 else {
            throw KafkaProtocolError(.corruptBatch, "the batch length \(batchLength) does not match the \(records.count - 12) bytes after it: exactly one record batch is expected per partition.")
        }
        let magic = field.int8(at: 16)
        guard magic == 2 else {
            throw KafkaProtocolError(.corruptBatch, "the record batch has magic \(magic); only record batch v2 (magic 2) is accepted.")
        }
        let storedCRC = UInt32(bitPattern: field.int32(at: 17))
        let computedCRC = Self.checksum(records)
        guard storedCRC == computedCRC else {
            throw KafkaProtocolError(.corruptBatch, "the record batch's CRC32C is \(storedCRC) but its bytes give \(computedCRC).")
        }
        let attributes = field.int16(at: 21)
        guard attributes & 0x20 == 0 else {
            throw KafkaProtocolError(.invalidRecord, "a client may not send a control batch.")
        }
        guard attributes & 0x10 == 0 else {
            throw KafkaProtocolError(.invalidRecord, "transactional batches are not supported.")
        }
        switch attributes & 0x07 {
        case Codec.none.rawValue: codec = .none
        case Codec.lz4.rawValue: codec = .lz4
        case Codec.zstd.rawValue: codec = .zstd
        case Codec.gzip.rawValue:
            throw KafkaProtocolError(.unsupportedCompression, "gzip batches are not accepted; use lz4, zstd or none.")
        case Codec.snappy.rawValue:
            throw KafkaProtocolError(.unsupportedCompression, "snappy batches are not accepted; use lz4, zstd or none.")
        case let other:
            throw KafkaProtocolError(.corruptBatch, "the record batch names the unknown codec \(other).")
        }
        let lastOffsetDelta = field.int32(at: 23)
        recordCount = field.int32(at: 57)
        guard recordCount >= 1 else {
            throw KafkaProtocolError(.corruptBatch, "the record batch declares \(recordCount) records; at least one is expected.")
        }
        guard lastOffsetDelta == recordCount - 1 else {
            throw KafkaProtocolError(.corruptBatch, "the record batch's last offset delta \(lastOffsetDelta) does not match its \(recordCount) records.")
        }
        byteCount = records.count
        usesLogAppendTime = attributes & 0x08 != 0
        baseTimestamp = field.int64(at: 27)
        maxTimestamp = field.int64(at: 35)
        producerId = field.int64(at: 43)
        producerEpoch = field.int16(at: 51)
        baseSequence = field.int32(at: 53)
    }

    /// CRC32C of `batch` from byte 21 (the attributes) to its end.
    ///
    /// - Precondition: `batch` has at least 21 bytes.
    public static func checksum(_ batch: ArraySlice<UInt8>) -> UInt32 {
        precondition(batch.count >= checksummedFrom, "a batch of \(batch.count) bytes")
        return batch.withUnsafeBytes { raw in
            eventlog_crc32c_extend(0, raw.baseAddress! + checksummedFrom, raw.count - checksummedFrom)
        }
    }

    /// Whether the CRC stored in `batch` matches its bytes.
    public static func checksumMatches(_ batch: ArraySlice<UInt8>) -> Bool {
        guard batch.count >= headerBytes else { return false }
        return UInt32(bitPattern: FieldReader(batch).int32(at: 17)) == checksum(batch)
    }

    /// Sets the batch's baseOffset to `baseOffset` and its partitionLeaderEpoch to -1 (the broker
    /// is epoch-less), in place. Both lie before the CRC's range, so the CRC stays valid.
    ///
    /// - Precondition: `batch` has at least the 61 bytes of a header.
    public static func restamp<C: MutableCollection<UInt8>>(_ batch: inout C, baseOffset: Int64) where C.Index == Int {
        precondition(batch.count >= headerBytes, "a batch of \(batch.count) bytes")
        let start = batch.startIndex
        withUnsafeBytes(of: baseOffset.bigEndian) { raw in
            for i in 0..<8 { batch[start + i] = raw[i] }
        }
        for i in 12..<16 { batch[start + i] = 0xff }
    }

    /// Sets the batch's producer id, epoch and base sequence (an idempotent producer's stamp),
    /// in place, and recomputes its CRC32C, which covers them; the records (and their
    /// compression) are untouched. A mirror forwards a fetched batch under its own producer
    /// this way.
    ///
    /// - Precondition: `batch` is one whole batch of at least the 61 bytes of a header.
    public static func stampProducer(_ batch: inout [UInt8], producerId: Int64, epoch: Int16, baseSequence: Int32) {
        precondition(batch.count >= headerBytes, "a batch of \(batch.count) bytes")
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.bigEndian) { raw in
                for i in 0..<raw.count { batch[offset + i] = raw[i] }
            }
        }
        put(producerId, at: 43)
        put(epoch, at: 51)
        put(baseSequence, at: 53)
        put(checksum(batch[...]), at: 17)
    }

    /// The baseOffset stored in `batch`.
    public static func baseOffset(of batch: ArraySlice<UInt8>) -> Int64 {
        FieldReader(batch).int64(at: 0)
    }

    /// The partitionLeaderEpoch stored in `batch`.
    public static func partitionLeaderEpoch(of batch: ArraySlice<UInt8>) -> Int32 {
        FieldReader(batch).int32(at: 12)
    }
}

/// Big-endian fields at fixed positions of a batch whose header length was checked.
private struct FieldReader {
    let bytes: ArraySlice<UInt8>
    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    func integer<T: FixedWidthInteger>(at offset: Int, _: T.Type) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size {
            value = value << 8 | T(truncatingIfNeeded: bytes[bytes.startIndex + offset + i])
        }
        return value
    }
    func int8(at offset: Int) -> Int8 { integer(at: offset, Int8.self) }
    func int16(at offset: Int) -> Int16 { integer(at: offset, Int16.self) }
    func int32(at offset: Int) -> Int32 { integer(at: offset, Int32.self) }
    func int64(at offset: Int) -> Int64 { integer(at: offset, Int64.self) }
}
