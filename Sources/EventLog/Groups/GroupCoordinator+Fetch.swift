extension GroupCoordinator {
    /// Reads records for a member over its assigned partitions, from its group-read positions.
    ///
    /// A position starts at the group's commit in the partition, or at the member's reset
    /// policy without one (``OffsetResetPolicy/earliest`` by default), and advances as
    /// records are handed out; nothing is committed (commit the returned
    /// ``GroupFetch/positions`` after processing). After a rebalance, positions restart from
    /// the commits. A position below the partition's start (records deleted by retention)
    /// moves to the start; damaged stored data is skipped and reported in
    /// ``GroupFetch/damaged``. The read also keeps the member's session alive.
    ///
    /// - Parameters:
    ///   - group: the consumer group.
    ///   - id: the member reading, as ``join(_:topics:sessionTimeout:strategy:resetPolicy:)`` named it.
    ///   - maxRecords: at most this many records over all partitions (at least 1).
    ///   - wait: when nothing is there to read, wait up to this long for an append.
    /// - Throws: ``LogError/Code/unknownMember``; ``LogError/Code/rebalanceInProgress`` while
    ///   the group rebalances (heartbeat to learn the new assignment) or when it rebalanced
    ///   during the read (nothing was handed out).
    public func fetch(_ group: String, member id: MemberID, maxRecords: Int, wait: Duration = .zero) async throws -> GroupFetch {
        guard maxRecords > 0 else { throw LogError(.invalidArgument, "maxRecords must be positive, got \(maxRecords).") }
        var (generation, positions) = try await fetchPositions(group, member: id)
        var read = try await readRecords(positions, maxRecords: maxRecords, startTurn: groups[group]?.members[id]?.nextPartitionTurn ?? 0)
        if read.records.isEmpty, wait > .zero, !positions.isEmpty {
            var waitOn: [(partition: Partition, offset: Offset)] = []
            for (tp, offset) in positions {
                if let p = try? store.partition(tp) { waitOn.append((p, offset)) }
            }
            if await Partition.waitForRecords(waitOn, timeout: wait) {
                (generation, positions) = try await fetchPositions(group, member: id)
                read = try await readRecords(positions, maxRecords: maxRecords, startTurn: groups[group]?.members[id]?.nextPartitionTurn ?? 0)
            }
        }
        // Hand out only if nothing changed meanwhile.
        guard groups[group]?.members[id] != nil else {
            throw LogError(.unknownMember, "member \(id) left group \(group) or its session expired during the read: join again.")
        }
        guard let state = groups[group], state.generation == generation else {
            throw LogError(.rebalanceInProgress, "group \(group) rebalanced during the read; heartbeat to learn the new assignment.")
        }
        touch(id, in: group)
        for (tp, offset) in read.next { groups[group]!.members[id]!.positions[tp] = offset }
        groups[group]!.members[id]!.nextPartitionTurn += 1
        let out = read.next.sorted { $0.key < $1.key }.map { PartitionPosition(topicPartition: $0.key, nextOffset: $0.value) }
        return GroupFetch(records: read.records, positions: out, damaged: read.damaged)
    }

    /// The member's current positions, resolved against commits and the reset policy.
    private func fetchPositions(_ group: String, member id: MemberID) async throws -> (Int, [TopicPartition: Offset]) {
        try Self.validateGroupName(group)
        try checkOpen()
        expireMembers(of: group)
        guard let state = groups[group], let member = state.members[id] else {
            throw LogError(.unknownMember, "member \(id) is not in group \(group) (it left or its session expired): join again.")
        }
        touch(id, in: group)
        guard !state.rebalancing else {
            throw LogError(.rebalanceInProgress, "group \(group) is rebalancing to generation \(state.generation); heartbeat to learn the assignment.")
        }
        var positions: [TopicPartition: Offset] = [:]
        for tp in state.assignment[id] ?? [] {
            guard let partition = try? store.partition(tp) else { continue }
            let offset: Offset
            if let known = member.positions[tp] {
                offset = known
            } else if let committed = commits[group]?[tp] {
                offset = committed.committed.offset
            } else {
                offset = member.resetPolicy == .earliest ? partition.startOffset : partition.endOffset
            }
            positions[tp] = min(max(offset, partition.startOffset), partition.endOffset)
        }
        return (state.generation, positions)
    }

    /// Reads up to `maxRecords` over the partitions, starting at a rotating one for fairness.
    /// Damaged ranges are skipped (a few per partition and read) and reported.
    private nonisolated func readRecords(
        _ positions: [TopicPartition: Offset], maxRecords: Int, startTurn: Int
    ) async throws -> (records: [GroupRecord], next: [TopicPartition: Offset], damaged: [DamagedRange]) {
        let order = positions.keys.sorted()
        var next = positions
        var records: [GroupRecord] = []
        var damaged: [DamagedRange] = []
        guard !order.isEmpty else { return (records, next, damaged) }
        for k in 0..<order.count where records.count < maxRecords {
            let tp = order[(startTurn + k) % order.count]
            guard let partition = try? store.partition(tp) else { continue }
            var from = positions[tp]!
            var result: Partition.ReadResult?
            for _ in 0..<4 where result == nil {
                do {
                    result = try await partition.read(from: from, maxRecords: maxRecords - records.count)
                } catch LogError.Code.offsetOutOfRange {
                    from = min(max(from, partition.startOffset), partition.endOffset)
                    break
                } catch let error as LogError where error.code == .corruptData && error.range != nil {
                    // The partition logged it; the member learns the range and reads on after it.
                    damaged.append(DamagedRange(topicPartition: tp, range: error.range!))
                    from = error.range!.end
                }
            }
            next[tp] = result?.nextOffset ?? from
            for r in result?.records ?? [] { records.append(GroupRecord(topicPartition: tp, record: r)) }
        }
        return (records, next, damaged)
    }
}
