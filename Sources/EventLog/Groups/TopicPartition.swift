/// One partition of one topic: the unit a consumer group assigns, commits and measures.
public struct TopicPartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The topic's name.
    public var topic: String
    /// The partition's number within the topic, from 0.
    public var partition: Int

    /// Names a partition of a topic.
    public init(_ topic: String, _ partition: Int) {
        self.topic = topic
        self.partition = partition
    }

    /// Orders by topic name, then partition number.
    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        lhs.topic != rhs.topic ? lhs.topic < rhs.topic : lhs.partition < rhs.partition
    }

    public var description: String { "\(topic)/\(partition)" }
}

/// A consumer group member's id, handed out by ``GroupCoordinator/join(_:topics:sessionTimeout:strategy:resetPolicy:)``.
public struct MemberID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The id as text (safe in a URL path segment).
    public var rawValue: String

    /// Wraps an id.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps an id.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// Orders by the id text.
    public static func < (lhs: MemberID, rhs: MemberID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { rawValue }
}

/// A group's committed position in one partition: the next offset to read, with the
/// committer's optional note (Kafka's `OffsetAndMetadata`).
public struct CommittedOffset: Hashable, Sendable {
    /// The next offset the group reads in the partition.
    public var offset: Offset
    /// Free text stored with the commit, such as the committing host.
    public var metadata: String?

    /// Makes a committed position.
    public init(_ offset: Offset, metadata: String? = nil) {
        self.offset = offset
        self.metadata = metadata
    }
}

/// Who commits: a member of the group in a generation, so that a member fenced by a
/// rebalance cannot overwrite the positions of the partitions' new owners.
public struct GroupMemberGeneration: Hashable, Sendable {
    /// The committing member.
    public var memberID: MemberID
    /// The generation the member last learned: a commit in another generation is fenced.
    public var generation: Int

    /// Names a member and the generation it commits in.
    public init(memberID: MemberID, generation: Int) {
        self.memberID = memberID
        self.generation = generation
    }
}
