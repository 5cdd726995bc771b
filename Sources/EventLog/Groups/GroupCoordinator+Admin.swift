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
    }

    public var name: String
    public var state: State
    public var generation: Int
    public var strategy: AssignmentStrategy?
    /// Live members, sorted by id.
    public var members: [Member]
    /// The committed position of every partition the group has committed.
    public var commits: [TopicPartition: CommittedOffset]
}

extension GroupCoordinator {
    /// A group's members, assignment and commits.
    /// - Throws: ``LogError/Code/groupNotFound`` when it has neither members nor commits.
    public func describe(_ group: String) throws(LogError) -> GroupDescription {
        try Self.validateGroupName(group)
        expireMembers(of: group)
        let state = groups[group]
        let stored = commits[group] ?? [:]
        guard state != nil || !stored.isEmpty else {
            throw LogError(.groupNotFound, "Group \(group) has no members and no commits.")
        }
        let members = (state?.members ?? [:]).sorted { $0.key < $1.key }.map { id, member in
            GroupDescription.Member(id: id, topics: member.topics.sorted(), assignment: state?.assignment[id] ?? [],
                                    sessionTimeout: member.sessionTimeout)
        }
        let phase: GroupDescription.State = members.isEmpty ? .empty : (state!.rebalancing ? .rebalancing : .stable)
        return GroupDescription(name: group, state: phase, generation: state?.generation ?? 0,
                                strategy: members.isEmpty ? nil : state?.strategy, members: members,
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
        if let members = groups[group]?.members, !members.isEmpty {
            throw LogError(.groupNotEmpty, "Group \(group) has \(members.count) member(s); a group is deleted once they have left or expired.")
        }
        let present = Array((commits[group] ?? [:]).keys)
        guard groups[group] != nil || !present.isEmpty else {
            throw LogError(.groupNotFound, "Group \(group) has no members and no commits.")
        }
        groups[group] = nil
        if !present.isEmpty { try await deleteCommits(present, for: group) }
    }
}
