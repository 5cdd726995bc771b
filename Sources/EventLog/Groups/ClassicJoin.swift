/// A member's request to join a group of the classic rebalance protocol (Kafka's JoinGroup),
/// in which one member, the leader, computes the assignment and the coordinator relays it.
///
/// See ``GroupCoordinator/joinClassic(_:)``.
public struct ClassicJoinRequest: Sendable, Hashable {
    /// The group's name.
    public var group: String
    /// The member's id, or `nil` for a member joining for the first time.
    public var memberID: MemberID?
    /// Whether a first join is only handed an id, with which the member joins again
    /// (``ClassicJoinOutcome/memberIDRequired(_:)``; Kafka's JoinGroup v4 and later).
    public var requiresKnownMemberID: Bool
    /// The protocol family, the same for every member (`consumer` for Kafka consumers).
    public var protocolType: String
    /// The protocols the member supports, most preferred first, each with the member's
    /// metadata for it (for consumers: the assignor's name and the subscription).
    public var protocols: [ClassicProtocol]
    /// The member is removed when no heartbeat, join, sync or commit of it arrives for this long.
    public var sessionTimeout: Duration
    /// How long the group waits for the member to join again when it rebalances, and for the
    /// leader's assignment after that (at most ``GroupCoordinator/Options/maxSessionTimeout``).
    public var rebalanceTimeout: Duration
    /// The client's own name for itself, shown in descriptions and used as the prefix of a new
    /// member id.
    public var clientID: String
    /// Where the client connects from, shown in descriptions.
    public var clientHost: String
    /// The topics the member subscribes to, as read from its metadata by the caller (shown in
    /// descriptions); empty when unknown.
    public var topics: [String]

    /// A join request; see each property.
    public init(group: String, memberID: MemberID?, requiresKnownMemberID: Bool, protocolType: String,
                protocols: [ClassicProtocol], sessionTimeout: Duration, rebalanceTimeout: Duration,
                clientID: String = "", clientHost: String = "", topics: [String] = []) {
        self.group = group
        self.memberID = memberID
        self.requiresKnownMemberID = requiresKnownMemberID
        self.protocolType = protocolType
        self.protocols = protocols
        self.sessionTimeout = sessionTimeout
        self.rebalanceTimeout = rebalanceTimeout
        self.clientID = clientID
        self.clientHost = clientHost
        self.topics = topics
    }
}

/// One protocol a member of a classic group supports, with its metadata for it (opaque to
/// the coordinator).
public struct ClassicProtocol: Sendable, Hashable {
    /// The protocol's name (for Kafka consumers the assignor: `range`, `roundrobin`, …).
    public var name: String
    /// The member's metadata for the protocol, handed to the leader as it is.
    public var metadata: [UInt8]

    /// A protocol and the member's metadata for it.
    public init(name: String, metadata: [UInt8]) {
        self.name = name
        self.metadata = metadata
    }
}

/// How a classic join ended.
public enum ClassicJoinOutcome: Sendable, Hashable {
    /// The rebalance completed: the member's generation, the chosen protocol and the leader.
    case joined(ClassicJoinResult)
    /// A first join that must be repeated with this id (nothing else happened).
    case memberIDRequired(MemberID)
}

/// What a member learns when a rebalance completes (Kafka's JoinGroup response).
public struct ClassicJoinResult: Sendable, Hashable {
    /// One member as the leader sees it: its id and its metadata for the chosen protocol.
    public struct Member: Sendable, Hashable {
        /// The member's id.
        public var id: MemberID
        /// Its metadata for ``ClassicJoinResult/protocolName``.
        public var metadata: [UInt8]
    }

    /// The group's new generation: syncs, heartbeats and commits carry it.
    public var generation: Int
    /// The protocol every member supports that most members prefer.
    public var protocolName: String
    /// The member that computes the assignment.
    public var leader: MemberID
    /// This member's id.
    public var memberID: MemberID
    /// Every member, in join order, for the leader; empty for the others.
    public var members: [Member]
}

/// A member's part of the leader's assignment: the bytes relayed to it as they are, and the
/// partitions they name when the caller could read them (shown in descriptions).
public struct ClassicAssignment: Sendable, Hashable {
    /// The assignment as the leader sent it.
    public var bytes: [UInt8]
    /// The partitions it assigns, sorted, when known.
    public var partitions: [TopicPartition]

    /// An assignment of `bytes`, naming `partitions`.
    public init(bytes: [UInt8], partitions: [TopicPartition] = []) {
        self.bytes = bytes
        self.partitions = partitions
    }
}
