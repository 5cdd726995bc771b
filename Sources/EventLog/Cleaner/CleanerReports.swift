/// What a retention pass did to a partition.
public struct RetentionReport: Sendable, Hashable {
    /// Whole segments deleted.
    public var segmentsDeleted: Int
    /// Bytes of log deleted.
    public var bytesDeleted: Int64
    /// The partition's start offset afterwards.
    public var startOffset: Offset
}

/// What a compaction of a partition did.
public struct CompactionReport: Sendable, Hashable {
    /// The partition's log size before.
    public var bytesBefore: Int64
    /// The partition's log size after.
    public var bytesAfter: Int64
    /// Records removed (superseded values and expired tombstones).
    public var recordsRemoved: Int64
    /// Bytes of log read (map building and cleaning).
    public var bytesRead: Int64
    /// Bytes of cleaned segments written.
    public var bytesWritten: Int64
    /// Segments before and after (small cleaned segments are merged).
    public var segmentsBefore: Int
    /// Segments after.
    public var segmentsAfter: Int
    /// Passes made: more than one when the keys did not fit the map's memory budget.
    public var passes: Int
    /// How long the compaction took (wall time, to the millisecond).
    public var duration: Duration
}

/// The cleaner's view of a partition, for operators.
public struct CleanerState: Sendable, Hashable {
    /// When the last compaction ended (milliseconds since the Unix epoch), or `nil`.
    public var lastCompactionAt: Int64?
    /// The last compaction's report.
    public var lastCompaction: CompactionReport?
    /// When the last retention pass ended (milliseconds since the Unix epoch), or `nil`.
    public var lastRetentionAt: Int64?
    /// The last retention pass's report.
    public var lastRetention: RetentionReport?
    /// Offsets below this were compacted already ("clean"); the rest of the closed log is dirty.
    public var firstDirtyOffset: Offset = 0
    /// Total bytes read and written by compactions since open.
    public var totalBytesRead: Int64 = 0
    /// Total bytes written by compactions since open.
    public var totalBytesWritten: Int64 = 0
    /// Compactions run since open (concurrent requests for one share a pass).
    public var compactionsRun: Int = 0
    /// When the cleaner first saw the tombstones of the compacted range (their expiry clock).
    var tombstoneSightings = TombstoneSightings()
}
