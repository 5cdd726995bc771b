/// What a segment's report and a sum of reports both tell: how many batches and records, the
/// offsets and timestamps they span, and their compression.
protocol BatchSpan {
    var batches: Int { get }
    var records: Int64 { get }
    var firstOffset: Int64? { get }
    var lastOffset: Int64? { get }
    var firstTimestamp: Int64? { get }
    var maxTimestamp: Int64? { get }
    var uncompressedBytes: Int64 { get }
    var compressionRatio: Double? { get }
}

extension SegmentReport: BatchSpan {}
extension Totals: BatchSpan {}
