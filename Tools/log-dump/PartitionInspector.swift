import EventLog

/// Reads a partition's segments in offset order: each segment's facts and, with `--verify`,
/// its indexes and how segments follow one another (no overlap; a gap is a problem unless
/// the topic is compacted).
struct PartitionInspector {
    let session: DumpSession
    let partition: DataLayout.Partition
    let topic: DataLayout.Topic
    /// Whether the partition stands for a whole directory (not a lone `.log` PATH): indexes are expected.
    let isDirectory: Bool

    private var settings: DumpSettings { session.settings }

    func inspect() -> DumpReport.Partition {
        var report = DumpReport.Partition(directory: partition.directory, number: partition.number)
        if settings.isSlice {
            readSlice()
            return report
        }
        var previous: (files: SegmentFiles, report: SegmentReport)?
        for (i, files) in partition.segments.enumerated() {
            let inspector = SegmentInspector(
                session: session, files: files, isNewest: i == partition.segments.count - 1,
                gapsExpected: topic.compacted, printRecords: true)
            var segment: SegmentReport
            var map: BatchMap
            (segment, map) = inspector.inspect()
            if settings.verify, let previous { checkSequence(previous.files, previous.report, then: files, segment) }
            if isDirectory || files.hasIndex || files.hasTimeIndex {
                let verifier = IndexVerifier(session: session, files: files, map: settings.verify && isDirectory ? map : nil, logSize: segment.bytes)
                if isDirectory || files.hasIndex { segment.offsetIndex = verifier.offsetIndex() }
                if isDirectory || files.hasTimeIndex { segment.timeIndex = verifier.timeIndex() }
            }
            map = BatchMap()
            session.reporter.segment(segment)
            report.segments.append(segment)
            report.totals.add(segment)
            previous = (files, segment)
        }
        return report
    }

    /// Checks that `next` starts right after `previous`: no overlap, no gap.
    private func checkSequence(_ previousFiles: SegmentFiles, _ previous: SegmentReport, then next: SegmentFiles, _ segment: SegmentReport) {
        guard let base = next.baseOffset else { return }
        let previousName = DataLayout.lastComponent(previousFiles.log)
        guard let previousEnd = previous.lastOffset.map({ $0 + 1 }) ?? previousFiles.baseOffset else { return }
        if previousEnd > base {
            session.report(.problem(.segmentOverlap, next.log, at: 0,
                "the segment's base offset \(base) overlaps \(previousName), which holds offsets up to \(previousEnd - 1)."))
        } else if previousEnd < base {
            let make = topic.compacted ? Finding.note : Finding.problem
            session.report(make(.segmentGap, next.log, 0,
                "offsets \(previousEnd)...\(base - 1) are missing between \(previousName) (last offset \(previousEnd - 1)) and this segment (base offset \(base))."))
        }
    }

    /// `--from-offset N --count K`: finds N's segment by base offset and its byte position
    /// through the offset index, and reads from there only.
    private func readSlice() {
        let from = settings.fromOffset ?? .min
        let segments = partition.segments
        guard !segments.isEmpty else { return }
        let first = segments.lastIndex { ($0.baseOffset ?? .min) <= from } ?? 0
        for i in first..<segments.count {
            if session.isRecordBudgetSpent { return }
            let files = segments[i]
            var start: Int64 = 0
            if i == first, settings.fromOffset != nil, let base = files.baseOffset, files.hasIndex,
               let file = try? ReadOnlyFile(path: files.index), let bytes = try? file.readAll()
            {
                let index = OffsetIndex(parsing: bytes, logSize: files.logSize)
                start = Int64(index.floorPosition(for: UInt32(clamping: max(0, from - base))).position)
            }
            let inspector = SegmentInspector(
                session: session, files: files, isNewest: i == segments.count - 1,
                gapsExpected: topic.compacted, printRecords: true)
            _ = inspector.inspect(from: start)
        }
    }
}
