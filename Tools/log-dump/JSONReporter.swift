import EventLogJSON
import EventLog

/// Output for scripts: one JSON document at the end, or with `--records` JSON Lines (one
/// object a line, each with a `"type"`: `record`, `batch`, `problem`, `note`, and last
/// `summary`, which is the document). The schema is in Docs/LOG-DUMP.md.
final class JSONReporter: Reporter {
    private let out: StandardOutput
    private let settings: DumpSettings
    private var lines: Bool { settings.records }
    private var topicName: String?
    private var partitionNumber: Int?

    init(out: StandardOutput, settings: DumpSettings) {
        self.out = out
        self.settings = settings
    }

    func beginTopic(_ topic: DataLayout.Topic) {
        topicName = topic.name
    }

    func beginPartition(_ partition: DataLayout.Partition, of topic: DataLayout.Topic) {
        partitionNumber = partition.number
    }

    func batch(_ header: RecordBatchHeader, file: String, position: Int64) {
        guard lines else { return }
        var w = JSONWriter()
        w.beginObject()
        w.field("type", "batch")
        w.field("topic", topicName)
        w.field("partition", partitionNumber.map(Int64.init))
        w.field("file", file)
        w.field("position", position)
        w.field("base_offset", header.baseOffset)
        w.field("last_offset", header.lastOffset)
        w.field("records", Int64(header.recordCount))
        w.field("bytes", Int64(header.totalSize))
        w.field("codec", header.codec?.description ?? "codec-\(header.codecID)")
        w.timestampField("base_timestamp", header.baseTimestamp, text: "base_time")
        w.timestampField("max_timestamp", header.maxTimestamp, text: "max_time")
        w.field("producer_id", header.producerID)
        w.field("producer_epoch", Int64(header.producerEpoch))
        w.field("base_sequence", Int64(header.baseSequence))
        w.field("crc", Int64(header.crc))
        w.endObject()
        out.line(w.text)
    }

    func record(_ record: borrowing RecordView, file: String, batchPosition: Int64) {
        guard lines else { return }
        var w = JSONWriter()
        w.beginObject()
        w.field("type", "record")
        w.field("topic", topicName)
        w.field("partition", partitionNumber.map(Int64.init))
        w.field("file", file)
        w.field("batch_position", batchPosition)
        w.field("offset", record.offset)
        w.timestampField("timestamp", record.timestamp, text: "time")
        // The rest as the HTTP API writes a record (Docs/LOG-DUMP.md, "One record shape"): a
        // value that is JSON as JSON (`value`), one that is not UTF-8 as `value_b64`; a UTF-8
        // value that is not JSON, which the HTTP API sends as `value_b64`, is `value_text` here
        // (the command-line contract prints values as text when they are UTF-8), and so is JSON
        // laid out over several lines (a record is one line here).
        w.bytesField("key", record.key.map(ByteText.init))
        if let value = record.value, !value.contains(0x0A), !value.contains(0x0D), JSONParser.isValid(value) {
            w.rawField("value", json: String(decoding: value, as: UTF8.self))
        } else {
            w.bytesField("value", record.value.map(ByteText.init), textSuffix: "_text")
        }
        w.headersFields(((try? record.headers()) ?? []).map { (name: $0.name, value: ByteText($0.value)) })
        w.endObject()
        out.line(w.text)
    }

    func finding(_ finding: Finding) {
        guard lines else { return }
        var w = JSONWriter()
        write(finding, typed: true, to: &w)
        out.line(w.text)
    }

    func segment(_ segment: SegmentReport) {}
    func endPartition(_ partition: DumpReport.Partition) {}
    func endTopic(_ topic: DumpReport.Topic) {}
    func index(_ index: IndexReport) {}

    func finish(_ report: DumpReport) {
        var w = JSONWriter()
        w.beginObject()
        if lines { w.field("type", "summary") }
        w.field("path", report.path)
        w.field("kind", report.kind.rawValue)
        w.field("verified", settings.verify)
        w.field("problem_count", report.problemCount)
        w.key("clean_shutdown")
        if let clean = report.cleanShutdown { w.value(clean) } else { w.null() }
        if settings.records { w.field("records_printed", report.recordsPrinted) }
        w.key("totals")
        write(report.totals, to: &w)
        w.key("topics")
        w.beginArray()
        for topic in report.topics { write(topic, to: &w) }
        w.endArray()
        w.key("indexes")
        w.beginArray()
        for index in report.indexes { write(index, to: &w) }
        w.endArray()
        for severity in [Finding.Severity.problem, .note] {
            w.key(severity == .problem ? "problems" : "notes")
            w.beginArray()
            for finding in report.findings where finding.severity == severity { write(finding, typed: false, to: &w) }
            w.endArray()
        }
        w.endObject()
        out.line(w.text)
        out.flush()
    }

    // MARK: Objects

    private func write(_ finding: Finding, typed: Bool, to w: inout JSONWriter) {
        w.beginObject()
        if typed { w.field("type", finding.severity.rawValue) }
        w.field("kind", finding.kind.rawValue)
        w.field("file", finding.file)
        w.field("position", finding.position)
        w.field("message", finding.message)
        w.endObject()
    }

    private func write(_ t: Totals, to w: inout JSONWriter) {
        w.beginObject()
        w.field("segments", t.segments)
        w.field("bytes", t.bytes)
        write(span: t, to: &w)
        w.endObject()
    }

    /// The members a segment and a total share.
    private func write(span s: some BatchSpan, to w: inout JSONWriter) {
        w.field("batches", s.batches)
        w.field("records", s.records)
        w.field("first_offset", s.firstOffset)
        w.field("last_offset", s.lastOffset)
        w.timestampField("first_timestamp", s.firstTimestamp, text: "first_time")
        w.timestampField("max_timestamp", s.maxTimestamp, text: "max_time")
        w.field("uncompressed_bytes", s.uncompressedBytes)
        w.field("compression_ratio", s.compressionRatio)
    }

    private func write(_ topic: DumpReport.Topic, to w: inout JSONWriter) {
        w.beginObject()
        w.field("name", topic.name)
        w.field("directory", topic.directory)
        w.field("compacted", topic.compacted)
        w.key("totals")
        write(topic.totals, to: &w)
        w.key("partitions")
        w.beginArray()
        for p in topic.partitions {
            w.beginObject()
            w.field("partition", p.number.map(Int64.init))
            w.field("directory", p.directory)
            w.key("totals")
            write(p.totals, to: &w)
            w.key("segments")
            w.beginArray()
            for s in p.segments { write(s, to: &w) }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    private func write(_ s: SegmentReport, to w: inout JSONWriter) {
        w.beginObject()
        w.field("file", s.file)
        w.field("base_offset", s.baseOffset)
        w.field("bytes", s.bytes)
        write(span: s, to: &w)
        w.field("codec", s.codec)
        w.key("codecs")
        w.beginObject()
        for (name, count) in s.codecs.sorted(by: { $0.key < $1.key }) { w.field(name, count) }
        w.endObject()
        w.key("incomplete_tail")
        if let tail = s.incompleteTail {
            w.beginObject()
            w.field("position", tail.position)
            w.field("bytes", tail.bytes)
            w.endObject()
        } else {
            w.null()
        }
        w.key("index")
        if let index = s.offsetIndex { write(index, to: &w) } else { w.null() }
        w.key("time_index")
        if let index = s.timeIndex { write(index, to: &w) } else { w.null() }
        w.endObject()
    }

    private func write(_ index: IndexReport, to w: inout JSONWriter) {
        w.beginObject()
        w.field("kind", index.kind.rawValue)
        w.field("file", index.file)
        w.field("present", index.present)
        w.field("bytes", index.bytes)
        w.field("entries", index.entries)
        w.field("first_offset", index.firstOffset)
        w.field("last_offset", index.lastOffset)
        if index.kind == .offset {
            w.field("first_position", index.firstPosition)
            w.field("last_position", index.lastPosition)
        } else {
            w.timestampField("first_timestamp", index.firstTimestamp, text: "first_time")
            w.timestampField("last_timestamp", index.lastTimestamp, text: "last_time")
        }
        w.endObject()
    }
}
