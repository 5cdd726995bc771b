/// A record read from a topic, with the partition it is in.
///
/// The stored record's fields read through: `record.offset`, `record.value`, `record.key`.
@dynamicMemberLookup
public struct TopicRecord: Sendable {
    /// The partition the record is in.
    public var partition: Int
    /// The record: offset, timestamp, key, value and headers.
    public var record: StoredRecord

    /// Makes a topic record.
    public init(partition: Int, record: StoredRecord) {
        self.partition = partition
        self.record = record
    }

    /// A field of the stored record, such as `offset` or `value`.
    public subscript<Value>(dynamicMember field: KeyPath<StoredRecord, Value>) -> Value {
        record[keyPath: field]
    }
}

/// What a topic reader (``Topic/records(from:)-(StartPosition)``) delivers: a record, or a
/// notice that records it was asked for cannot be delivered.
public enum TopicEvent: Sendable {
    /// The next record of one of the partitions.
    case record(TopicRecord)
    /// Records skipped: deleted by retention, unreadable (damaged), or a position past the end.
    case notice(TopicNotice)

    /// The record, or `nil` for a notice.
    public var record: TopicRecord? {
        if case .record(let record) = self { return record }
        return nil
    }
}

/// A note that a topic reader did not continue on a partition where its position said.
///
/// At the start: the position asked for records retention already deleted (a ``Kind/gap``),
/// or lies past the partition's end, as when the topic was deleted and made again (a
/// ``Kind/reset``). While reading: records deleted before they were read, or stored data
/// that is damaged (a gap with ``damaged`` set; the partition logged it).
public struct TopicNotice: Hashable, Sendable {
    /// Why the reader did not continue where asked.
    public enum Kind: String, Hashable, Sendable {
        /// The records from ``TopicNotice/requested`` up to ``TopicNotice/resumedFrom`` were
        /// deleted, or are damaged (``TopicNotice/damaged``).
        case gap
        /// The position was past the partition's end: reading continues at the end.
        case reset
    }

    /// Which notice.
    public var kind: Kind
    /// The partition it concerns.
    public var partition: Int
    /// The first offset the position asked for.
    public var requested: Offset
    /// Where reading continues instead.
    public var resumedFrom: Offset
    /// A gap over damaged stored data (`requested ..< resumedFrom` is unreadable); `false` for
    /// records deleted by retention.
    public var damaged: Bool

    /// Makes a notice.
    public init(kind: Kind, partition: Int, requested: Offset, resumedFrom: Offset, damaged: Bool = false) {
        self.kind = kind
        self.partition = partition
        self.requested = requested
        self.resumedFrom = resumedFrom
        self.damaged = damaged
    }
}

/// Where an appended record went (``Topic/append(_:)``).
public struct PartitionOffset: Hashable, Sendable, CustomStringConvertible {
    /// The partition the record was appended to.
    public var partition: Int
    /// Its offset there.
    public var offset: Offset

    /// Makes a placement.
    public init(partition: Int, offset: Offset) {
        self.partition = partition
        self.offset = offset
    }

    /// `partition/offset`, such as `2/17`.
    public var description: String { "\(partition)/\(offset)" }
}
