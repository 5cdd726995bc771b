/// How far a partition's log is known to be on stable storage, and the producer table at
/// that point: crash recovery scans only what comes after it.
///
/// File `recovery-checkpoint` in the partition directory (see Docs/FORMAT.md):
/// `"ELRC"`, version `UInt16` 1, segment base `Int64`, byte position `Int64`, next offset
/// `Int64`, the producer table, then CRC32C of everything before it. Replaced atomically.
package struct RecoveryCheckpoint: Sendable, Equatable {
    static let fileName = "recovery-checkpoint"
    static let magic: [UInt8] = Array("ELRC".utf8)
    static let version: UInt16 = 1

    /// The segment holding the checkpoint.
    var segmentBase: Int64
    /// Bytes of that segment known durable.
    var position: Int64
    /// The offset after the last durable record.
    var nextOffset: Int64
    /// Producer state as of `nextOffset`.
    var producers: ProducerStateTable

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.write(Self.magic)
        w.write(bigEndian: Self.version)
        w.write(bigEndian: segmentBase)
        w.write(bigEndian: position)
        w.write(bigEndian: nextOffset)
        producers.encode(into: &w)
        let crc = CRC32C.checksum(w.bytes)
        w.write(bigEndian: crc)
        return w.bytes
    }

    /// Parses a checkpoint; `nil` for a damaged or unknown one (recovery then scans everything).
    package static func decode(_ bytes: [UInt8]) -> RecoveryCheckpoint? {
        guard bytes.count >= 4 + 2 + 24 + 4 + 4, Array(bytes[0..<4]) == magic else { return nil }
        let stored = bytes.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)) }
        guard CRC32C.checksum(Array(bytes[..<(bytes.count - 4)])) == stored else { return nil }
        return bytes.withUnsafeBytes { raw -> RecoveryCheckpoint? in
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: raw[..<(bytes.count - 4)]), position: 4)
            do {
                let version: UInt16 = try r.readInteger()
                guard version == Self.version else { return nil }
                let base: Int64 = try r.readInteger()
                let position: Int64 = try r.readInteger()
                let next: Int64 = try r.readInteger()
                let producers = try ProducerStateTable.decode(&r)
                return RecoveryCheckpoint(segmentBase: base, position: position, nextOffset: next, producers: producers)
            } catch {
                return nil
            }
        }
    }
}
