extension GroupCoordinator {
    /// Commits positions for a group: each the next offset the group reads in its partition.
    ///
    /// All positions are appended as one batch to the offsets topic, atomically, and the call
    /// returns after that batch is on stable storage (`fdatasync(2)`). A commit of a position
    /// replaces the earlier one.
    ///
    /// The generation check and the queueing of the batch happen in one step on the actor:
    /// a commit accepted in generation g is in the offsets log before any commit of a later
    /// generation, so a fenced member's commit never lands after its successor's.
    ///
    /// - Parameters:
    ///   - offsets: the positions; an empty dictionary does nothing.
    ///   - group: the group's name.
    ///   - member: the committing member and the generation it commits in, or `nil` for a
    ///     commit from outside the group's membership (tools, an SSE stream, a standalone consumer).
    /// - Throws: ``LogError/Code/invalidGroupName``; ``LogError/Code/topicNotFound`` or
    ///   ``LogError/Code/partitionNotFound`` for a position of an unknown partition;
    ///   ``LogError/Code/invalidArgument`` for a negative offset;
    ///   ``LogError/Code/unknownMember`` when `member` is not in the group;
    ///   ``LogError/Code/staleGeneration`` when its generation is not the group's (it was
    ///   fenced by a rebalance); ``LogError/Code/rebalanceInProgress`` for a member of a
    ///   classic group (``joinClassic(_:)``) between its join phase and the leader's
    ///   assignment; an I/O error of the append.
    public func commit(_ offsets: [TopicPartition: CommittedOffset], for group: String, by member: GroupMemberGeneration? = nil) async throws {
        try Self.validateGroupName(group)
        try checkOpen()
        for (tp, committed) in offsets {
            _ = try store.partition(tp)
            guard committed.offset.rawValue >= 0 else {
                throw LogError(.invalidArgument, "a committed offset must be 0 or more, got \(committed.offset) for \(tp).")
            }
        }
        if let member {
            expireMembers(of: group)
            try checkGeneration(member, in: group)
        }
        guard !offsets.isEmpty else { return }
        logger.trace("commit", metadata: ["group": "\(group)", "member": "\(member?.memberID.rawValue ?? "-")", "offsets": "\(offsets.count)"])
        try await write(offsets.sorted { $0.key < $1.key }.map {
            OffsetCommitRecord(group: group, topicPartition: $0.key, committed: $0.value)
        })
    }

    /// Commits the positions a group read returned (``GroupFetch/positions``).
    public func commit(_ positions: [PartitionPosition], for group: String, by member: GroupMemberGeneration? = nil) async throws {
        var offsets: [TopicPartition: CommittedOffset] = [:]
        for p in positions { offsets[p.topicPartition] = CommittedOffset(p.nextOffset) }
        try await commit(offsets, for: group, by: member)
    }

    /// Throws unless `member` is in the group in its current generation; refreshes its session.
    func checkGeneration(_ member: GroupMemberGeneration, in group: String) throws(LogError) {
        expireClassic(group)
        if try checkClassicCommit(member, in: group) { return }
        guard var state = groups[group], var m = state.members[member.memberID] else {
            throw LogError(.unknownMember, "member \(member.memberID) is not in group \(group) (it left or its session expired): join again.")
        }
        if member.generation != state.generation {
            throw LogError(.staleGeneration,
                           "member \(member.memberID) commits in generation \(member.generation) but group \(group) is in generation \(state.generation): it was fenced by a rebalance.")
        }
        m.deadline = clock.now.advanced(by: m.sessionTimeout)
        state.members[member.memberID] = m
        groups[group] = state
    }

    /// Appends commit records (all of groups of one offsets partition) as one durable batch,
    /// then applies them in log order.
    ///
    /// The batch is queued for the writer before the first suspension: whatever the caller
    /// checked on the actor just before still holds when it takes its place in the log (no
    /// other actor job runs in between).
    func write(_ records: [OffsetCommitRecord]) async throws {
        let now = currentMilliseconds()
        // One partition per group, so that a group's commits keep their order.
        let index = offsetsTopic.partitionIndex(forKey: records[0].group.utf8)
        precondition(records.allSatisfy { offsetsTopic.partitionIndex(forKey: $0.group.utf8) == index },
                     "one write goes to one offsets partition")
        let partition = offsetsTopic.partitions[index]
        let batch = try EncodedBatch(records: records.map { $0.record(now: now) }, codec: partition.configuration.compression, now: now)
        // The continuation's body runs here, on the actor: the batch is queued before we suspend.
        let range = try await withCheckedThrowingContinuation { partition.enqueue(batch, continuation: $0) }
        CrashPoints.hit("group-commit.appended")
        for (i, var record) in records.enumerated() {
            if record.committed != nil { record.committedAt = now }
            apply(record, at: range.first.advanced(by: Int64(i)))
        }
    }

    /// The group's committed positions.
    ///
    /// - Throws: ``LogError/Code/invalidGroupName``; ``LogError/Code/groupNotFound`` when the
    ///   group has neither commits nor members.
    public func committedOffsets(for group: String) throws(LogError) -> [TopicPartition: CommittedOffset] {
        try Self.validateGroupName(group)
        guard exists(group) else { throw LogError(.groupNotFound, "group \(group) has no commits and no members.") }
        return (commits[group] ?? [:]).mapValues(\.committed)
    }

    /// The group's committed position in one partition, or `nil`.
    public func committedOffset(for group: String, _ topicPartition: TopicPartition) -> CommittedOffset? {
        commits[group]?[topicPartition]?.committed
    }

    /// Deletes the group's commits of the given partitions (tombstones in the offsets topic).
    public func deleteCommits(_ partitions: [TopicPartition], for group: String) async throws {
        try Self.validateGroupName(group)
        try checkOpen()
        let present = partitions.filter { commits[group]?[$0] != nil }
        guard !present.isEmpty else { return }
        try await write(present.map { OffsetCommitRecord(group: group, topicPartition: $0, committed: nil) })
    }

    /// Moves the group's position in a partition and commits it: to the partition's start
    /// (`.earliest`), its end (`.latest`), an offset (clamped to start … end), or the first
    /// record at or after a timestamp (through ``Partition/offset(forTimestamp:)``).
    ///
    /// Members reading the partition restart from the new position.
    /// - Returns: the committed offset.
    @discardableResult
    public func reset(_ topicPartition: TopicPartition, for group: String, to position: StartPosition, metadata: String? = nil) async throws -> Offset {
        try Self.validateGroupName(group)
        let offset = try await store.partition(topicPartition).resolve(position)
        try await commit([topicPartition: CommittedOffset(offset, metadata: metadata)], for: group)
        if var state = groups[group] {
            for id in state.members.keys { state.members[id]!.positions[topicPartition] = nil }
            groups[group] = state
        }
        return offset
    }

    // MARK: Lag

    /// The group's lag in every partition it has committed: committed position, end offset,
    /// records behind, and the age of the oldest record not yet consumed.
    ///
    /// - Throws: ``LogError/Code/groupNotFound`` when the group has neither commits nor members.
    public func lag(for group: String) async throws -> [PartitionLag] {
        let table = try committedOffsets(for: group)
        let now = currentMilliseconds()
        var out: [PartitionLag] = []
        for (tp, committed) in table.sorted(by: { $0.key < $1.key }) {
            guard let partition = try? store.partition(tp) else { continue }
            let end = partition.endOffset
            let from = max(committed.offset, partition.startOffset)
            var age: Duration?
            if from < end, let first = try? await partition.read(from: from, maxRecords: 1).records.first {
                age = .milliseconds(max(0, now - first.timestamp))
            }
            out.append(PartitionLag(
                topicPartition: tp, committed: committed.offset, endOffset: end,
                lag: max(0, end - committed.offset), oldestUnconsumedAge: age))
        }
        return out
    }
}

/// Milliseconds since the Unix epoch.
func currentMilliseconds() -> Int64 { FileSystem.nowMilliseconds() }
