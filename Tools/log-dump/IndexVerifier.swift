/// Reads a segment's `.index` and `.timeindex` entry by entry, straight from the bytes (the
/// library's parsers stop at the first bad entry; this reports every one), and with a
/// ``BatchMap`` checks each entry against the batches of the log.
struct IndexVerifier {
    let session: DumpSession
    let files: SegmentFiles
    /// The segment's batches, when the log was read (`--verify`).
    let map: BatchMap?
    let logSize: Int64

    private var base: Int64 { files.baseOffset ?? 0 }

    /// The `.index` file: 8-byte entries, big-endian `UInt32` relative offset then `UInt32` byte position.
    func offsetIndex() -> IndexReport {
        var report = IndexReport(kind: .offset, file: files.index, present: files.hasIndex)
        guard let bytes = read(&report) else { return report }
        let count = bytes.count / 8
        report.entries = count
        var previous: (relative: UInt32, position: UInt32)?
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let relative = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt32.self))
                let position = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: i * 8 + 4, as: UInt32.self))
                let offset = base + Int64(relative)
                if i == 0 { report.firstOffset = offset; report.firstPosition = Int64(position) }
                report.lastOffset = offset
                report.lastPosition = Int64(position)
                guard let map else { continue }
                let at = Int64(i * 8)
                if let previous, relative <= previous.relative || position <= previous.position {
                    problem(.indexEntry, at, "entry \(i) (offset \(offset) at log byte \(position)) is not after entry \(i - 1) (offset \(base + Int64(previous.relative)) at log byte \(previous.position)): both must increase.")
                }
                previous = (relative, position)
                let logPosition = Int64(position)
                if logPosition >= logSize {
                    problem(.indexEntry, at, "entry \(i) (offset \(offset)) points at log byte \(position), past the end of the log (\(logSize) bytes).")
                    continue
                }
                if logPosition >= map.readableEnd { continue } // the log is damaged there: reported already
                if let b = map.batch(startingAt: logPosition) {
                    if offset < map.baseOffsets[b] || offset > map.lastOffsets[b] {
                        problem(.indexEntry, at, "entry \(i) for offset \(offset) points at log byte \(position), the batch of offsets \(map.baseOffsets[b])...\(map.lastOffsets[b]), which does not hold it.")
                    }
                } else if let b = map.batch(containing: logPosition) {
                    problem(.indexEntry, at, "entry \(i) for offset \(offset) points at log byte \(position), inside the batch that starts at byte \(map.positions[b]) (offsets \(map.baseOffsets[b])...\(map.lastOffsets[b])), not at a batch start.")
                } else {
                    problem(.indexEntry, at, "entry \(i) for offset \(offset) points at log byte \(position), which is not the start of a batch.")
                }
            }
        }
        if map != nil, bytes.count % 8 != 0 {
            problem(.indexEntry, Int64(count * 8), "the file ends with a torn entry of \(bytes.count % 8) bytes (entries are 8 bytes).")
        }
        return report
    }

    /// The `.timeindex` file: 12-byte entries, big-endian `Int64` timestamp then `UInt32` relative offset.
    func timeIndex() -> IndexReport {
        var report = IndexReport(kind: .time, file: files.timeIndex, present: files.hasTimeIndex)
        guard let bytes = read(&report) else { return report }
        let count = bytes.count / 12
        report.entries = count
        var previous: (timestamp: Int64, relative: UInt32)?
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let timestamp = Int64(bigEndian: raw.loadUnaligned(fromByteOffset: i * 12, as: Int64.self))
                let relative = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: i * 12 + 8, as: UInt32.self))
                let offset = base + Int64(relative)
                if i == 0 { report.firstTimestamp = timestamp; report.firstOffset = offset }
                report.lastTimestamp = timestamp
                report.lastOffset = offset
                guard let map else { continue }
                let at = Int64(i * 12)
                if let previous, timestamp <= previous.timestamp || relative <= previous.relative {
                    problem(.timeIndexEntry, at, "entry \(i) (timestamp \(timestamp) at offset \(offset)) is not after entry \(i - 1) (timestamp \(previous.timestamp) at offset \(base + Int64(previous.relative))): the time index must be monotone.")
                }
                previous = (timestamp, relative)
                guard let b = map.batch(holding: offset) else {
                    // Past the readable part of a damaged log: reported already.
                    if logSize > map.readableEnd, offset > (map.lastOffsets.last ?? .min) { continue }
                    problem(.timeIndexEntry, at, "entry \(i) (timestamp \(timestamp)) points at offset \(offset), which no batch of the segment holds.")
                    continue
                }
                let reached = map.runningMaxTimestamps[b]
                if reached != timestamp {
                    problem(.timeIndexEntry, at, "entry \(i) says timestamp \(timestamp) is reached at offset \(offset), but the batches up to offset \(map.lastOffsets[b]) reach \(reached).")
                }
            }
        }
        if map != nil, bytes.count % 12 != 0 {
            problem(.timeIndexEntry, Int64(count * 12), "the file ends with a torn entry of \(bytes.count % 12) bytes (entries are 12 bytes).")
        }
        return report
    }

    /// The file's bytes; `nil` (with a finding under `--verify`) when it is missing or unreadable.
    private func read(_ report: inout IndexReport) -> [UInt8]? {
        let path = report.file
        guard report.present else {
            if map != nil {
                session.report(.problem(.indexMissing, files.log, at: nil,
                    "the segment has no \(report.kind == .offset ? ".index" : ".timeindex") file (\(path)); reads of it must scan (recovery rebuilds it)."))
            }
            return nil
        }
        do {
            let file = try ReadOnlyFile(path: path)
            report.bytes = file.size
            return try file.readAll()
        } catch {
            session.report(.problem(.unreadable, path, at: nil, error.message))
            return nil
        }
    }

    private func problem(_ kind: Finding.Kind, _ position: Int64, _ message: String) {
        let file = kind == .indexEntry ? files.index : files.timeIndex
        session.report(.problem(kind, file, at: position, message))
    }
}
