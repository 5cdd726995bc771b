/// A segment's sparse offset index: relative offset → byte position, one entry per
/// `indexIntervalBytes` of log (Kafka's `.index`: 8 bytes an entry, two big-endian `UInt32`s).
///
/// Entries are kept in memory as packed `UInt64`s (`relativeOffset << 32 | position`), in
/// increasing order of both halves, and appended to the file as they are added.
package struct OffsetIndex: Sendable {
    package static let entrySize = 8
    package private(set) var entries: [UInt64] = []

    package init() {}

    /// Parses a whole `.index` file; stops at the first entry that breaks the order
    /// (a torn or stale tail) and reports how many entries were valid.
    package init(parsing bytes: [UInt8], logSize: Int64) {
        let count = bytes.count / Self.entrySize
        entries.reserveCapacity(count)
        bytes.withUnsafeBytes { raw in
            var last: UInt64? = nil
            for i in 0..<count {
                let rel = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt32.self))
                let pos = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: i * 8 + 4, as: UInt32.self))
                let packed = UInt64(rel) << 32 | UInt64(pos)
                if let last, rel <= UInt32(last >> 32) || pos <= UInt32(truncatingIfNeeded: last) { break }
                if Int64(pos) >= logSize { break }
                entries.append(packed)
                last = packed
            }
        }
    }

    package var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The entry at `i` as (relative offset, position).
    package func entry(_ i: Int) -> (relativeOffset: UInt32, position: UInt32) {
        let e = entries[i]
        return (UInt32(e >> 32), UInt32(truncatingIfNeeded: e))
    }

    mutating func append(relativeOffset: UInt32, position: UInt32) {
        entries.append(UInt64(relativeOffset) << 32 | UInt64(position))
    }

    /// Drops entries for relative offsets at or above `relativeOffset` or positions at or above `position`.
    mutating func truncate(relativeOffsetAtLeast relativeOffset: UInt32? = nil, positionAtLeast position: UInt32? = nil) {
        while let last = entries.last {
            let rel = UInt32(last >> 32), pos = UInt32(truncatingIfNeeded: last)
            if let relativeOffset, rel >= relativeOffset { entries.removeLast(); continue }
            if let position, pos >= position { entries.removeLast(); continue }
            break
        }
    }

    /// The byte position to start scanning for `relativeOffset`: the last entry at or below it, else 0.
    package func floorPosition(for relativeOffset: UInt32) -> (relativeOffset: UInt32, position: UInt32) {
        floorAndNextPosition(for: relativeOffset).floor
    }

    /// The floor entry, and the position of the entry after it (`nil` past the last entry):
    /// the record at `relativeOffset` lies in the bytes between the two.
    func floorAndNextPosition(for relativeOffset: UInt32) -> (floor: (relativeOffset: UInt32, position: UInt32), next: UInt32?) {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if UInt32(entries[mid] >> 32) <= relativeOffset { lo = mid + 1 } else { hi = mid }
        }
        let next = lo < entries.count ? entry(lo).position : nil
        return (lo == 0 ? (0, 0) : entry(lo - 1), next)
    }

    /// The file bytes of entries `from ..< count`.
    func encoded(from start: Int = 0) -> [UInt8] {
        var w = ByteWriter(capacity: (entries.count - start) * Self.entrySize)
        for i in start..<entries.count {
            let (rel, pos) = entry(i)
            w.write(bigEndian: rel)
            w.write(bigEndian: pos)
        }
        return w.bytes
    }
}

/// A segment's sparse time index: the largest timestamp so far → the relative offset of the
/// batch that brought it (Kafka's `.timeindex`: 12 bytes an entry, `Int64` then `UInt32`).
package struct TimeIndex: Sendable {
    package static let entrySize = 12
    package private(set) var timestamps: [Int64] = []
    package private(set) var relativeOffsets: [UInt32] = []

    package init() {}

    package init(parsing bytes: [UInt8]) {
        let count = bytes.count / Self.entrySize
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let ts = Int64(bigEndian: raw.loadUnaligned(fromByteOffset: i * 12, as: Int64.self))
                let rel = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: i * 12 + 8, as: UInt32.self))
                if let lastTs = timestamps.last, ts <= lastTs || rel <= relativeOffsets.last! { break }
                timestamps.append(ts)
                relativeOffsets.append(rel)
            }
        }
    }

    package var count: Int { timestamps.count }
    var lastTimestamp: Int64? { timestamps.last }

    mutating func append(timestamp: Int64, relativeOffset: UInt32) {
        timestamps.append(timestamp)
        relativeOffsets.append(relativeOffset)
    }

    mutating func truncate(relativeOffsetAtLeast relativeOffset: UInt32) {
        while let last = relativeOffsets.last, last >= relativeOffset {
            relativeOffsets.removeLast()
            timestamps.removeLast()
        }
    }

    /// The relative offset to start scanning from for the first record at or after `timestamp`:
    /// that of the last entry whose timestamp is below it (all records before it are older), else 0.
    package func floorRelativeOffset(for timestamp: Int64) -> UInt32 {
        var lo = 0, hi = timestamps.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if timestamps[mid] < timestamp { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? 0 : relativeOffsets[lo - 1]
    }

    func encoded(from start: Int = 0) -> [UInt8] {
        var w = ByteWriter(capacity: (count - start) * Self.entrySize)
        for i in start..<count {
            w.write(bigEndian: timestamps[i])
            w.write(bigEndian: relativeOffsets[i])
        }
        return w.bytes
    }
}
