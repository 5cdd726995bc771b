internal import CCRC32C

/// CRC32C (Castagnoli), the checksum of Kafka's record batch v2.
///
/// Hardware accelerated (SSE4.2, three interleaved streams) where the CPU allows, slicing-by-8 otherwise.
public enum CRC32C {
    /// The checksum of `bytes`, or of `bytes` following data whose checksum was `crc`.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        _checksum(bytes, crc)
    }

    /// The checksum of an array of bytes.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { _checksum($0, 0) }
    }

    @usableFromInline
    static func _checksum(_ bytes: UnsafeRawBufferPointer, _ crc: UInt32) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return eventlog_crc32c_extend(crc, base, bytes.count)
    }
}
