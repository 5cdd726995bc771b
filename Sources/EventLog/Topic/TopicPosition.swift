/// Where a reader of a whole topic is: per partition, the offset of the next record to deliver.
///
/// Its text is the server's event-stream cursor (the SSE `id:` and `Last-Event-ID`): per
/// partition, in partition order, the offset of the last record delivered (`next - 1`, so
/// `-1` before any), joined by `,`. A one-partition topic's text is that number alone, so a
/// record's id is its offset.
///
/// ```swift
/// let position = TopicPosition(nextOffsets: [Offset(18), Offset(5), Offset(0)])
/// position.description                       // "17,4,-1"
/// TopicPosition("17,4,-1") == position       // true
/// ```
///
/// Resuming ``Topic/records(from:)-(TopicPosition)`` from the position after a record delivers
/// exactly the records after it: none lost, none repeated.
public struct TopicPosition: Hashable, Sendable, LosslessStringConvertible {
    /// Per partition, the offset of the next record to deliver (0 or more).
    public private(set) var nextOffsets: [Offset]

    /// A position from the next offset of each partition, in partition order.
    ///
    /// - Precondition: every offset is 0 or more.
    public init(nextOffsets: [Offset]) {
        precondition(nextOffsets.allSatisfy { $0.rawValue >= 0 }, "a topic position's offsets are 0 or more")
        self.nextOffsets = nextOffsets
    }

    /// Parses a position's text (``description``): one or more decimal numbers joined by `,`,
    /// each `-1` or a non-negative 64-bit integer below `Int64.max`, without sign, spaces or
    /// leading zeros. `nil` for anything else.
    public init?(parsing text: some StringProtocol) {
        var offsets: [Offset] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let last = DecimalInteger.parse(part, in: -1...(Int64.max - 1)) else { return nil }
            offsets.append(Offset(last + 1))
        }
        guard !offsets.isEmpty else { return nil }
        self.nextOffsets = offsets
    }

    /// Parses a position's text; see ``init(parsing:)``.
    public init?(_ description: String) {
        self.init(parsing: description)
    }

    /// The text: per partition the offset of the last record delivered (`-1` before any),
    /// joined by `,`: `17` or `17,4,-1`.
    public var description: String {
        var text = ""
        for (i, next) in nextOffsets.enumerated() {
            if i > 0 { text += "," }
            text += String(next.rawValue - 1)
        }
        return text
    }

    /// How many partitions the position covers.
    public var partitionCount: Int { nextOffsets.count }

    /// Covers `count` partitions, the ones added reading from offset 0: for a topic that grew
    /// since the position was taken (``LogStore/alterTopic(named:_:)``), whose new partitions
    /// hold only records that came after it. Nothing changes when it covers as many already.
    public mutating func extend(toPartitionCount count: Int) {
        if count > nextOffsets.count {
            nextOffsets.append(contentsOf: repeatElement(Offset(0), count: count - nextOffsets.count))
        }
    }

    /// The next offset to deliver on `partition`.
    ///
    /// - Precondition: `partition` is below ``partitionCount``.
    public subscript(partition: Int) -> Offset {
        get { nextOffsets[partition] }
        set {
            precondition(newValue.rawValue >= 0, "a topic position's offsets are 0 or more")
            nextOffsets[partition] = newValue
        }
    }

    /// Moves past a delivered record: its partition continues after its offset (a partition
    /// the topic added since is covered first, ``extend(toPartitionCount:)``).
    public mutating func advance(past record: TopicRecord) {
        extend(toPartitionCount: record.partition + 1)
        nextOffsets[record.partition] = record.record.offset + 1
    }

    /// Moves past a notice: its partition continues where the notice says (a partition the
    /// topic added since is covered first).
    public mutating func advance(past notice: TopicNotice) {
        extend(toPartitionCount: notice.partition + 1)
        nextOffsets[notice.partition] = notice.resumedFrom
    }

    /// Moves past what ``Topic/records(from:)-(TopicPosition)`` delivered.
    public mutating func advance(past event: TopicEvent) {
        switch event {
        case .record(let record): advance(past: record)
        case .notice(let notice): advance(past: notice)
        }
    }
}
