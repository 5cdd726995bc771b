/// What one run of log-dump is asked to do, as parsed from the command line.
struct DumpSettings: Sendable {
    /// Check checksums, offsets and indexes, and report every problem.
    var verify = false
    /// Print every record.
    var records = false
    /// JSON (one document, or JSON Lines with ``records``) instead of text.
    var json = false
    /// Print only records at or after this offset, found through the offset index.
    var fromOffset: Int64?
    /// Print at most this many records.
    var count: Int?
    /// With ``verify``: a cut-off batch at the very end of a partition's newest segment
    /// (a writer mid-append, or a crash recovery has not cut yet) is a note, not a problem.
    var allowIncompleteTail = false
    /// Draw a progress bar on standard error when it is a terminal.
    var progress = true

    /// Whether only a slice of the records is wanted (no summaries then).
    var isSlice: Bool { fromOffset != nil || count != nil }
}
