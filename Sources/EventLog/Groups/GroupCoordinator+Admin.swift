/// What an operator sees of a consumer group: its members and their partitions, and its
/// commits (``GroupCoordinator/describe(_:)``).
public struct GroupDescription: Sendable, Hashable {
    /// `empty` (no members), `stable` or `rebalancing`.
    public enum State: String, Sendable, Hashable {
        case empty, stable, rebalancing
    }

    /// One live member.
    public struct Member: Sendable, Hashable {
        public var id: MemberID
        /// The topics it subscribed to, sorted.
        public var topics: [String]
        /// The partitions assigned to it in the current generation.
        public var assignment: [TopicPartition]
        public var sessionTimeout: Duration
        /// For a member of a classic group: the client's id for itself; `nil` otherwise.
        public var clientID: String? = nil
        /// For a member of a classic group: where the client connects from; `nil` otherwise.
        public var clientHost: String? = nil
        /// For a member of a classic group: its metadata for the group's current protocol
        /// (Kafka's DescribeGroups `member_metadata`); `nil` otherwise.
        public var protocolMetadata: [UInt8]? = nil
        /// For a member of a classic group: the assignment the leader gave it, as the leader
        /// encoded it (DescribeGroups `member_assignment`); `nil` otherwise or before one.
        public var assignmentBytes: [UInt8]? = nil
    }

    public var name: String
    public var state: State
    public var generation: Int
    public var strategy: AssignmentStrategy?
    /// For a classic group (``GroupCoordinator/joinClassic(_:)``, Kafka clients): its
    /// protocol type (`consumer`) and the protocol of its current generation (the assignor,
    /// such as `range`); `nil` for groups the coordinator assigns.
    public var protocolType: String?
    /// See ``protocolType``.
    public var protocolName: String?
    /// Live members, sorted by id.
    public var members: [Member]
    /// The committed position of every partition the group has committed.
    public var commits: [TopicPartition: CommittedOffset]
    /// For a classic group, its state as Kafka names it (`Empty`, `PreparingRebalance`,
    /// `CompletingRebalance`, `Stable`); `nil` for groups the coordinator assigns.
    public var classicState: String? = nil
}

extension GroupCoordinator {
    /// A group's members, assignment and commits.
    /// - Throws: ``LogError/Code/groupNotFound`` when it has neither members nor commits.
    public func describe(_ group: String) throws(LogError) -> GroupDescription {
        try Self.validateGroupName(group)
        expireMembers(of: group)
        expireClassic(group)
        let stored = commits[group] ?? [:]
        if let g = classicGroups[group] {
            let members = g.members.sorted { $0.key < $1.key }.map { id, m in
                GroupDescription.Member(id: id, topics: m.topics.sorted(), assignment: m.assignment?.partitions ?? [],
                                        sessionTimeout: m.sessionTimeout, clientID: m.clientID, clientHost: m.clientHost,
                                        protocolMetadata: m.protocols.first { $0.name == g.protocolName }?.metadata,
                                        assignmentBytes: m.assignment?.bytes)
            }
            let phase: GroupDescription.State = members.isEmpty ? .empty : (g.phase == .stable ? .stable : .rebalancing)
            let classicState = switch members.isEmpty ? .empty : g.phase {
            case .empty: "Empty"
            case .preparingRebalance: "PreparingRebalance"
            case .completingRebalance: "CompletingRebalance"
            case .stable: "Stable"
            }
            return GroupDescription(name: group, state: phase, generation: g.generation, strategy: nil,
                                    protocolType: g.protocolType, protocolName: g.protocolName, members: members,
                                    commits: stored.mapValues(\.committed), classicState: classicState)
        }
        let state = groups[group]
        guard state != nil || !stored.isEmpty else {
            throw LogError(.groupNotFound, "Group \(group) has no members and no commits.")
        }
        let members = (state?.members ?? [:]).sorted { $0.key < $1.key }.map { id, member in
            GroupDescription.Member(id: id, topics: member.topics.sorted(), assignment: state?.assignment[id] ?? [],
                                    sessionTimeout: member.sessionTimeout)
        }
        let phase: GroupDescription.State = members.isEmpty ? .empty : (state!.rebalancing ? .rebalancing : .stable)
        return GroupDescription(name: group, state: phase, generation: state?.generation ?? 0,
                                strategy: members.isEmpty ? nil : state?.strategy, protocolType: nil, protocolName: nil, members: members,
                                commits: stored.mapValues(\.committed))
    }

    /// Deletes a group without members: its commits are tombstoned in the offsets topic, so
    /// they stay deleted after a restart.
    /// - Throws: ``LogError/Code/groupNotEmpty`` while it has members,
    ///   ``LogError/Code/groupNotFound`` when there is nothing to delete.
    public func deleteGroup(_ group: String) async throws {
        try Self.validateGroupName(group)
        try checkOpen()
        expireMembers(of: group)
        expireClassic(group)
        let memberCount = groups[group]?.members.count ?? classicGroups[group]?.members.count ?? 0
        if memberCount > 0 {
            throw LogError(.groupNotEmpty, "Group \(group) has \(memberCount) member(s); a group is deleted once they have left or expired.")
        }
        let present = Array((commits[group] ?? [:]).keys)
        guard groups[group] != nil || !present.isEmpty else {
            throw LogError(.groupNotFound, "Group \(group) has no members and no commits.")
        }
        groups[group] = nil
        if let vacant = classicGroups.removeValue(forKey: group) { classicBytes -= vacant.storedBytes }   // pending ids only
        if !present.isEmpty { try await deleteCommits(present, for: group) }
    }
}
