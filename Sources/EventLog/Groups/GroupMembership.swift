/// What a member learns when it joins or heartbeats: its generation and its partitions.
public struct GroupMembership: Hashable, Sendable {
    /// The group's name.
    public var group: String
    /// The member's id: pass it to every later call.
    public var memberID: MemberID
    /// The group's current generation; commits must carry it (fencing).
    public var generation: Int
    /// The partitions this member owns in ``generation``, sorted.
    public var assignment: [TopicPartition]
    /// Whether some member has not yet acknowledged ``generation``: until none is left,
    /// group reads answer ``LogError/Code/rebalanceInProgress``.
    public var rebalancing: Bool
}

/// A group's position and backlog in one partition, as ``GroupCoordinator/lag(for:)`` reports it.
public struct PartitionLag: Hashable, Sendable {
    /// The partition.
    public var topicPartition: TopicPartition
    /// The group's committed position: the next offset it reads.
    public var committed: Offset
    /// The partition's end offset: the offset the next appended record gets.
    public var endOffset: Offset
    /// Records between the committed position and the end (never negative).
    public var lag: Int64
    /// How long ago the oldest unconsumed record was stamped (by its timestamp), or `nil` when there is none.
    public var oldestUnconsumedAge: Duration?
}

/// One record handed out by a group read, with its partition.
public struct GroupRecord: Hashable, Sendable {
    /// Where the record lives.
    public var topicPartition: TopicPartition
    /// The record.
    public var record: StoredRecord
}

/// A member's read position in one partition.
public struct PartitionPosition: Hashable, Sendable {
    /// The partition.
    public var topicPartition: TopicPartition
    /// The next offset the member reads there.
    public var nextOffset: Offset
}

/// The answer of a group read (``GroupCoordinator/fetch(_:member:maxRecords:wait:)``).
public struct GroupFetch: Hashable, Sendable {
    /// Records, grouped by partition, in offset order within each.
    public var records: [GroupRecord]
    /// The member's position after this read in every partition it owns, sorted.
    public var positions: [PartitionPosition]
    /// Offsets this read skipped because their stored data is damaged (see
    /// ``Partition/damagedRanges``); the positions are already past them.
    public var damaged: [DamagedRange] = []
}

/// Offsets of a partition that a read skipped because their stored data is damaged.
public struct DamagedRange: Hashable, Sendable {
    /// The partition.
    public var topicPartition: TopicPartition
    /// The unreadable offsets, from where the read was to where it resumed.
    public var range: OffsetRange
}

/// Where a group starts in a partition it has no commit for.
public enum OffsetResetPolicy: Hashable, Sendable {
    /// At the partition's start: everything retained is read.
    case earliest
    /// At the partition's end: only records appended later.
    case latest
}
