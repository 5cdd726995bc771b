/// The facts of one `.index` or `.timeindex` file.
struct IndexReport: Sendable {
    enum Kind: String, Sendable {
        case offset = "index"
        case time = "timeindex"
    }

    var kind: Kind
    var file: String
    var present: Bool
    var bytes: Int64 = 0
    /// Whole entries in the file (a torn last entry is not counted).
    var entries = 0
    /// Absolute offsets of the first and last entry.
    var firstOffset: Int64?
    var lastOffset: Int64?
    /// Offset index: byte positions in the log of the first and last entry.
    var firstPosition: Int64?
    var lastPosition: Int64?
    /// Time index: timestamps of the first and last entry.
    var firstTimestamp: Int64?
    var lastTimestamp: Int64?
}
