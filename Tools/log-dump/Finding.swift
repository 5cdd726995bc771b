/// Something log-dump found in a file: a problem (exit status 1) or a note.
struct Finding: Sendable {
    /// Whether the finding makes the exit status 1.
    enum Severity: String, Sendable {
        case problem
        case note
    }

    /// What kind of thing was found, as a stable name for scripts.
    enum Kind: String, Sendable {
        /// A batch header that cannot be parsed (bad magic, impossible length).
        case corruptBatch = "corrupt-batch"
        /// A batch whose CRC32C does not match its bytes.
        case checksumMismatch = "checksum-mismatch"
        /// A batch cut off before its declared end.
        case truncatedBatch = "truncated-batch"
        /// A batch cut off at the very end of a partition's newest segment.
        case incompleteTail = "incomplete-tail"
        /// A batch's records cannot be decoded (framing, decompression).
        case recordFraming = "record-framing"
        /// Batch offsets that do not increase.
        case offsetOrder = "offset-order"
        /// An offset index entry that is out of order or does not point at its batch.
        case indexEntry = "index-entry"
        /// A time index entry that is not monotone or does not match the batches.
        case timeIndexEntry = "time-index-entry"
        /// A segment without its `.index` or `.timeindex` file.
        case indexMissing = "index-missing"
        /// A segment whose first batch starts below the base offset in its file name.
        case segmentBase = "segment-base"
        /// Two segments holding the same offsets.
        case segmentOverlap = "segment-overlap"
        /// Offsets missing between or at the start of segments.
        case segmentGap = "segment-gap"
        /// A partition directory named in topic.conf that does not exist.
        case partitionMissing = "partition-missing"
        /// A file or directory that cannot be read.
        case unreadable
        /// A file that is not part of the layout (left alone).
        case unexpectedFile = "unexpected-file"
        /// A symbolic link (never followed).
        case symlink
    }

    var severity: Severity
    var kind: Kind
    /// The file the finding is about.
    var file: String
    /// The byte position in ``file``, when there is one.
    var position: Int64?
    /// One sentence: what was expected and what was found.
    var message: String

    static func problem(_ kind: Kind, _ file: String, at position: Int64?, _ message: String) -> Finding {
        Finding(severity: .problem, kind: kind, file: file, position: position, message: message)
    }

    static func note(_ kind: Kind, _ file: String, at position: Int64?, _ message: String) -> Finding {
        Finding(severity: .note, kind: kind, file: file, position: position, message: message)
    }
}
