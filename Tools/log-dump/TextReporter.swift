import EventLog

/// Output for people: one line per segment, record and finding, indented by level.
final class TextReporter: Reporter {
    private let out: StandardOutput
    private let settings: DumpSettings

    init(out: StandardOutput, settings: DumpSettings) {
        self.out = out
        self.settings = settings
    }

    func beginTopic(_ topic: DataLayout.Topic) {
        guard let name = topic.name, let directory = topic.directory else { return }
        out.line("topic \(name) (\(directory))" + (topic.compacted ? " compacted" : ""))
    }

    func beginPartition(_ partition: DataLayout.Partition, of topic: DataLayout.Topic) {
        let label = partition.number.map { "partition \($0)" } ?? "partition"
        out.line("  \(label) (\(partition.directory)): \(partition.segments.count) segments")
    }

    func batch(_ header: RecordBatchHeader, file: String, position: Int64) {
        out.line("      batch at byte \(position): offsets \(header.baseOffset)...\(header.lastOffset), \(header.recordCount) records, "
            + "\(header.totalSize) bytes, codec \(header.codec?.description ?? "codec-\(header.codecID)"), "
            + "timestamps \(Self.time(header.baseTimestamp))...\(Self.time(header.maxTimestamp))")
    }

    func record(_ record: borrowing RecordView, file: String, batchPosition: Int64) {
        var line = "        offset \(record.offset)  timestamp \(Self.time(record.timestamp))  key " + Self.bytes(record.key)
        let headers = (try? record.headers()) ?? []
        if !headers.isEmpty {
            line += "  headers [" + headers.map { $0.name + "=" + Self.bytes($0.value) }.joined(separator: ", ") + "]"
        }
        line += "  value " + Self.bytes(record.value)
        out.line(line)
    }

    func finding(_ finding: Finding) {
        let at = finding.position.map { " at byte \($0)" } ?? ""
        let label = finding.severity == .problem ? "PROBLEM" : "note"
        out.line("\(label) [\(finding.kind.rawValue)] \(finding.file)\(at): \(finding.message)")
    }

    func segment(_ s: SegmentReport) {
        var line = "    segment \(DataLayout.lastComponent(s.file))"
        if let base = s.baseOffset { line += "  base \(base)" }
        line += "  batches \(s.batches)  records \(s.records)"
        if let first = s.firstOffset, let last = s.lastOffset { line += "  offsets \(first)...\(last)" }
        line += "  bytes \(s.bytes)"
        if let codec = s.codec { line += "  codec \(codec)" }
        if let ratio = s.compressionRatio { line += "  ratio " + Self.formatRatio(ratio) }
        out.line(line)
        if let first = s.firstTimestamp, let max = s.maxTimestamp {
            out.line("      timestamps first \(Self.time(first))  max \(Self.time(max))")
        }
        if let tail = s.incompleteTail {
            out.line("      incomplete tail: \(tail.bytes) bytes at byte \(tail.position)")
        }
        for index in [s.offsetIndex, s.timeIndex].compactMap({ $0 }) { out.line("      " + Self.describe(index)) }
    }

    func endPartition(_ p: DumpReport.Partition) {
        guard !settings.isSlice else { return }
        out.line("    total " + Self.describe(p.totals))
    }

    func endTopic(_ t: DumpReport.Topic) {
        guard !settings.isSlice, t.name != nil, t.directory != nil, t.partitions.count > 1 else { return }
        out.line("  topic total: \(t.partitions.count) partitions, " + Self.describe(t.totals))
    }

    func index(_ index: IndexReport) {
        out.line(Self.describe(index))
    }

    func finish(_ report: DumpReport) {
        if report.kind == .dataDirectory && !settings.isSlice {
            let clean = report.cleanShutdown == true ? "shut down cleanly" : "not shut down cleanly (or open now)"
            out.line("total: \(report.topics.count) topics, " + Self.describe(report.totals) + "; \(clean)")
        }
        if settings.records { out.line("\(report.recordsPrinted) records printed") }
        let problems = report.problemCount
        if settings.verify {
            out.line(problems == 0 ? "verify: clean, no problems found" : "verify: \(problems) problem\(problems == 1 ? "" : "s") found")
        } else if problems > 0 {
            out.line("\(problems) problem\(problems == 1 ? "" : "s") found")
        }
        out.flush()
    }

    // MARK: Formatting

    static func describe(_ t: Totals) -> String {
        var s = "\(t.segments) segments, \(t.batches) batches, \(t.records) records"
        if let first = t.firstOffset, let last = t.lastOffset { s += ", offsets \(first)...\(last)" }
        s += ", \(t.bytes) bytes"
        if let ratio = t.compressionRatio { s += ", ratio " + formatRatio(ratio) }
        return s
    }

    static func describe(_ index: IndexReport) -> String {
        let name = DataLayout.lastComponent(index.file)
        guard index.present else { return "\(index.kind.rawValue) \(name): missing" }
        var s = "\(index.kind.rawValue) \(name): \(index.entries) entries, \(index.bytes) bytes"
        if let first = index.firstOffset, let last = index.lastOffset { s += ", offsets \(first)...\(last)" }
        if let first = index.firstPosition, let last = index.lastPosition { s += ", log bytes \(first)...\(last)" }
        if let first = index.firstTimestamp, let last = index.lastTimestamp { s += ", timestamps \(time(first))...\(time(last))" }
        return s
    }

    static func time(_ milliseconds: Int64) -> String {
        ISO8601.string(milliseconds: milliseconds).map { "\(milliseconds) (\($0))" } ?? String(milliseconds)
    }

    static func bytes(_ raw: UnsafeRawBufferPointer?) -> String {
        guard let raw else { return "null" }
        return render(ByteText(raw))
    }

    static func bytes(_ raw: RecordBytes) -> String { render(ByteText(raw)) }

    private static func render(_ text: ByteText) -> String {
        text.encoding == .utf8 ? ByteText.quoted(text.text) : "base64:" + text.text
    }

    static func formatRatio(_ r: Double) -> String {
        let hundredths = Int((r * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
