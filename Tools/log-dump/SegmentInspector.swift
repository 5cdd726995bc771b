import EventLog

/// Reads one `.log` file batch by batch with the library's ``BatchScanner`` (1 MiB reads,
/// CRC32C in hardware), collecting its facts and, with `--verify`, its problems.
///
/// A batch cut off at the end of the newest segment is an *incomplete tail*: what a writer
/// mid-append or a crash leaves (recovery cuts it). It is a note, except under `--verify`
/// without `--allow-incomplete-tail`, where it is a problem. Anywhere else it is a problem.
struct SegmentInspector {
    let session: DumpSession
    let files: SegmentFiles
    /// Whether this is the partition's newest segment, the only one a writer appends to.
    let isNewest: Bool
    /// Whether gaps in offsets are expected (compacted topics).
    let gapsExpected: Bool
    /// Whether to print records and batches (`--records`, not when only building the map for an index PATH).
    let printRecords: Bool

    private var settings: DumpSettings { session.settings }

    /// Reads the segment from byte `start` (a batch start; 0 unless reading a slice).
    func inspect(from start: Int64 = 0) -> (SegmentReport, BatchMap) {
        var report = SegmentReport(file: files.log, baseOffset: files.baseOffset)
        var map = BatchMap()
        let file: ReadOnlyFile
        do { file = try ReadOnlyFile(path: files.log) } catch {
            session.report(.problem(.unreadable, files.log, at: nil, error.message))
            return (report, map)
        }
        report.bytes = file.size
        let end = file.size
        var scanner: BatchScanner
        do { scanner = try BatchScanner.open(path: files.log, start: start, end: end) } catch {
            session.report(.problem(.unreadable, files.log, at: nil, error.message))
            return (report, map)
        }
        let verify = settings.verify
        let from = settings.fromOffset ?? .min
        var previousLast: Int64?
        var done = false

        while !done {
            let at = scanner.position
            do {
                let batch: Void? = try scanner.nextBatch(verify: verify) { position, header, batch in
                    take(header, batch, at: position, previousLast: previousLast, into: &report, map: &map, from: from)
                    previousLast = max(previousLast ?? .min, header.lastOffset)
                    if session.isRecordBudgetSpent { done = true }
                }
                if batch == nil { break }
            } catch {
                if !damage(at: at, end: end, file: file, error: error, report: &report, map: &map, scanner: &scanner) { break }
                previousLast = map.count > 0 ? max(previousLast ?? .min, map.lastOffsets[map.count - 1]) : previousLast
            }
        }
        map.readableEnd = scanner.position
        return (report, map)
    }

    /// Handles one whole batch (its CRC already checked under `--verify`).
    private func take(_ header: RecordBatchHeader, _ batch: UnsafeRawBufferPointer, at position: Int64,
                      previousLast: Int64?, into report: inout SegmentReport, map: inout BatchMap, from: Int64) {
        let verify = settings.verify
        if verify {
            if let previousLast, header.baseOffset <= previousLast {
                session.report(.problem(.offsetOrder, files.log, at: position,
                    "the batch of offsets \(header.baseOffset)...\(header.lastOffset) does not follow the previous batch, which ends at offset \(previousLast)."))
            }
            if report.batches == 0, let base = files.baseOffset {
                if header.baseOffset < base {
                    session.report(.problem(.segmentBase, files.log, at: position,
                        "the first batch starts at offset \(header.baseOffset), below the segment's base offset \(base) (its file name)."))
                } else if header.baseOffset > base {
                    let finding = gapsExpected ? Finding.note : Finding.problem
                    session.report(finding(.segmentGap, files.log, position,
                        "the first batch starts at offset \(header.baseOffset), above the segment's base offset \(base): offsets \(base)...\(header.baseOffset - 1) are missing."))
                }
            }
        }
        report.batches += 1
        report.records += Int64(header.recordCount)
        if report.firstOffset == nil {
            report.firstOffset = header.baseOffset
            report.firstTimestamp = header.baseTimestamp
        }
        report.lastOffset = max(report.lastOffset ?? .min, header.lastOffset)
        report.maxTimestamp = max(report.maxTimestamp ?? .min, header.maxTimestamp)
        let codecName = header.codec?.description ?? "codec-\(header.codecID)"
        report.codecs[codecName, default: 0] += 1
        report.storedBatchBytes += Int64(header.totalSize)
        report.uncompressedBytes += uncompressedSize(header, batch, at: position)
        map.append(position: position, baseOffset: header.baseOffset, lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp)

        if printRecords && settings.records {
            if header.lastOffset >= from && !session.isRecordBudgetSpent {
                printRecords(header, batch, at: position, from: from)
            }
        } else if verify {
            do {
                try header.forEachRecord(in: batch) { _ in }
            } catch {
                session.report(.problem(.recordFraming, files.log, at: position,
                    "the records of the batch of offsets \(header.baseOffset)...\(header.lastOffset) cannot be decoded: \(Self.reason(error))"))
            }
        }
        session.progress?.advance(by: header.totalSize)
    }

    /// The batch's size with its records section uncompressed (decompresses compressed batches).
    private func uncompressedSize(_ header: RecordBatchHeader, _ batch: UnsafeRawBufferPointer, at position: Int64) -> Int64 {
        guard let codec = header.codec, codec != .none else { return Int64(header.totalSize) }
        let section = UnsafeRawBufferPointer(rebasing: batch[RecordBatchHeader.size..<header.totalSize])
        guard let plain = try? Compression.decompress(section, codec: codec) else { return Int64(header.totalSize) }
        return Int64(RecordBatchHeader.size + plain.count)
    }

    private func printRecords(_ header: RecordBatchHeader, _ batch: UnsafeRawBufferPointer, at position: Int64, from: Int64) {
        session.reporter.batch(header, file: files.log, position: position)
        do {
            try header.forEachRecord(in: batch) { record in
                guard record.offset >= from, !session.isRecordBudgetSpent else { return }
                session.reporter.record(record, file: files.log, batchPosition: position)
                session.notePrintedRecord()
            }
        } catch {
            session.report(.problem(.recordFraming, files.log, at: position,
                "the records of the batch of offsets \(header.baseOffset)...\(header.lastOffset) cannot be decoded: \(Self.reason(error))"))
        }
    }

    /// Classifies a batch the scanner could not take; returns whether scanning can go on past it.
    private func damage(at position: Int64, end: Int64, file: ReadOnlyFile, error: any Error,
                        report: inout SegmentReport, map: inout BatchMap, scanner: inout BatchScanner) -> Bool {
        if let error = error as? LogError, error.code == .ioError {
            session.report(.problem(.unreadable, files.log, at: position, error.message))
            return false
        }
        let remaining = end - position
        var header: RecordBatchHeader?
        var headerError: (any Error)?
        if remaining >= Int64(RecordBatchHeader.size) {
            do {
                let bytes = try file.read(count: RecordBatchHeader.size, at: position)
                header = try bytes.withUnsafeBytes { raw throws(LogError) in try RecordBatchHeader(parsing: raw) }
            } catch {
                headerError = error
            }
        }
        if remaining < Int64(RecordBatchHeader.size) || header.map({ position + Int64($0.totalSize) > end }) == true {
            let needs = header.map { "\($0.totalSize) bytes (offsets \($0.baseOffset)...\($0.lastOffset))" } ?? "at least \(RecordBatchHeader.size) bytes for its header"
            let what = "the batch at byte \(position) is cut off: it needs \(needs), only \(remaining) remain."
            if isNewest {
                report.incompleteTail = (position, remaining)
                let tolerated = !settings.verify || settings.allowIncompleteTail
                session.report(tolerated
                    ? .note(.incompleteTail, files.log, at: position, "incomplete tail: " + what)
                    : .problem(.incompleteTail, files.log, at: position, "incomplete tail: " + what + " (a crash or a writer mid-append; --allow-incomplete-tail accepts it)"))
            } else {
                session.report(.problem(.truncatedBatch, files.log, at: position, what))
            }
            return false
        }
        guard let header else {
            let reason = headerError.map(Self.reason) ?? "unreadable header."
            session.report(.problem(.corruptBatch, files.log, at: position,
                "the batch header cannot be read: \(reason) The remaining \(remaining) bytes are not read."))
            return false
        }
        // The header is sound and the batch is whole: its checksum failed.
        session.report(.problem(.checksumMismatch, files.log, at: position,
            "the CRC32C of the batch of offsets \(header.baseOffset)...\(header.lastOffset) (\(header.totalSize) bytes) does not match its bytes."))
        // Counted as a batch, but its record count and timestamps are not to be trusted.
        report.batches += 1
        report.storedBatchBytes += Int64(header.totalSize)
        report.uncompressedBytes += Int64(header.totalSize)
        map.append(position: position, baseOffset: header.baseOffset, lastOffset: header.lastOffset, maxTimestamp: .min)
        session.progress?.advance(by: header.totalSize)
        scanner.seek(to: position + Int64(header.totalSize))
        return true
    }

    /// The sentence of a library error, without its code.
    static func reason(_ error: any Error) -> String {
        if let e = error as? LogError { return e.message }
        if let e = error as? DumpError { return e.message }
        return "\(error)"
    }
}
