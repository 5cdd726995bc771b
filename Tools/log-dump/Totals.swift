/// Counts summed over segments, partitions or topics.
struct Totals: Sendable {
    var segments = 0
    var batches = 0
    var records: Int64 = 0
    var bytes: Int64 = 0
    var uncompressedBytes: Int64 = 0
    var storedBatchBytes: Int64 = 0
    var firstOffset: Int64?
    var lastOffset: Int64?
    var firstTimestamp: Int64?
    var maxTimestamp: Int64?

    mutating func add(_ s: SegmentReport) {
        segments += 1
        batches += s.batches
        records += s.records
        bytes += s.bytes
        uncompressedBytes += s.uncompressedBytes
        storedBatchBytes += s.storedBatchBytes
        merge(first: s.firstOffset, last: s.lastOffset, firstTimestamp: s.firstTimestamp, maxTimestamp: s.maxTimestamp)
    }

    mutating func add(_ t: Totals) {
        segments += t.segments
        batches += t.batches
        records += t.records
        bytes += t.bytes
        uncompressedBytes += t.uncompressedBytes
        storedBatchBytes += t.storedBatchBytes
        merge(first: t.firstOffset, last: t.lastOffset, firstTimestamp: t.firstTimestamp, maxTimestamp: t.maxTimestamp)
    }

    private mutating func merge(first: Int64?, last: Int64?, firstTimestamp ts: Int64?, maxTimestamp max: Int64?) {
        if let first { firstOffset = Swift.min(firstOffset ?? first, first) }
        if let last { lastOffset = Swift.max(lastOffset ?? last, last) }
        if let ts { firstTimestamp = Swift.min(firstTimestamp ?? ts, ts) }
        if let max { maxTimestamp = Swift.max(maxTimestamp ?? max, max) }
    }

    var compressionRatio: Double? {
        storedBatchBytes > 0 ? Double(uncompressedBytes) / Double(storedBatchBytes) : nil
    }
}
