/// The facts of one segment (`.log` file) as read from its batch headers.
struct SegmentReport: Sendable {
    /// The `.log` file.
    var file: String
    /// The base offset named by the file, or `nil` for a file not named `<20 digits>.log`.
    var baseOffset: Int64?
    /// The file's size.
    var bytes: Int64 = 0
    var batches = 0
    var records: Int64 = 0
    var firstOffset: Int64?
    var lastOffset: Int64?
    /// The first record's timestamp (the first batch's base timestamp).
    var firstTimestamp: Int64?
    /// The largest timestamp of any batch.
    var maxTimestamp: Int64?
    /// How many batches use each codec, by name (`none`, `lz4`, `zstd`, `codec-N`).
    var codecs: [String: Int] = [:]
    /// The batches' size were they stored uncompressed.
    var uncompressedBytes: Int64 = 0
    /// A batch cut off at the end of the file: where it starts and how many bytes are there.
    var incompleteTail: (position: Int64, bytes: Int64)?
    var offsetIndex: IndexReport?
    var timeIndex: IndexReport?

    /// The one codec of every batch, `mixed`, or `nil` for an empty segment.
    var codec: String? {
        switch codecs.count {
        case 0: nil
        case 1: codecs.keys.first
        default: "mixed"
        }
    }

    /// Uncompressed over stored bytes of the batches (1.0 when nothing is compressed).
    var compressionRatio: Double? {
        let stored = storedBatchBytes
        return stored > 0 ? Double(uncompressedBytes) / Double(stored) : nil
    }

    /// Bytes of the batches that were read.
    var storedBatchBytes: Int64 = 0
}
