extension GroupCoordinator {
    // MARK: Membership

    /// Joins a group: the member gets an id, the group a new generation, and every member a
    /// new assignment (the group rebalances).
    ///
    /// The joining member has acknowledged the new generation; every other member learns it at
    /// its next heartbeat and acknowledges it with the heartbeat after that, once it has
    /// committed what it processed. Until every member has, the group is rebalancing and group
    /// reads answer ``LogError/Code/rebalanceInProgress``, so a moved partition is never read
    /// by its new owner while its old owner may still commit it.
    ///
    /// - Parameters:
    ///   - group: the group's name.
    ///   - topics: the topics to consume; topics that do not exist yet are assigned once they do.
    ///   - sessionTimeout: the member is removed when no heartbeat, group read or commit of it
    ///     arrives for this long.
    ///   - strategy: the assignment strategy, taken from the first member of an empty group
    ///     (default ``GroupCoordinator/Options/defaultStrategy``, sticky).
    ///   - resetPolicy: where group reads start in partitions without a commit.
    /// - Throws: ``LogError/Code/invalidGroupName``, ``LogError/Code/invalidTopicName``,
    ///   ``LogError/Code/invalidArgument`` for no topics or a timeout out of bounds.
    public func join(
        _ group: String, topics: [String], sessionTimeout: Duration,
        strategy: AssignmentStrategy? = nil, resetPolicy: OffsetResetPolicy = .earliest
    ) throws(LogError) -> GroupMembership {
        try Self.validateGroupName(group)
        try checkOpen()
        guard !topics.isEmpty else { throw LogError(.invalidArgument, "a member must subscribe to at least one topic.") }
        for topic in topics { try LogStore.validateTopicName(topic) }
        guard sessionTimeout >= options.minSessionTimeout && sessionTimeout <= options.maxSessionTimeout else {
            throw LogError(.invalidArgument,
                           "the session timeout must be between \(options.minSessionTimeout) and \(options.maxSessionTimeout), got \(sessionTimeout).")
        }
        expireMembers(of: group)
        expireClassic(group)
        if classicGroups[group] != nil {
            throw LogError(.inconsistentGroupProtocol,
                           "group \(group) has members that joined through the Kafka protocol; use another group name or wait until they left.")
        }
        if let state = groups[group] {
            guard state.members.count < options.maxMembersPerGroup else {
                throw LogError(.groupLimitReached, "group \(group) has \(state.members.count) members, the most a group may have.")
            }
        } else {
            try checkGroupLimit()
        }
        memberSequence += 1
        let id = MemberID(String(memberSequence, radix: 10) + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16))
        var state = groups[group] ?? GroupState(strategy: strategy ?? options.defaultStrategy)
        if state.members.isEmpty, let strategy { state.strategy = strategy }
        state.members[id] = Member(
            topics: Set(topics), sessionTimeout: sessionTimeout, deadline: clock.now.advanced(by: sessionTimeout),
            knownGeneration: 0, syncedGeneration: 0, resetPolicy: resetPolicy)
        groups[group] = state
        lastMemberLeft[group] = nil
        rebalance(group, reason: "member \(id) joined")
        groups[group]!.members[id]!.knownGeneration = groups[group]!.generation
        groups[group]!.members[id]!.syncedGeneration = groups[group]!.generation
        armTimer()
        return membership(of: id, in: group)
    }

    /// Keeps a member's session alive and tells it the group's generation and its assignment.
    ///
    /// The first heartbeat after a rebalance tells the member its new generation and
    /// assignment (and restarts its group-read positions from the commits); the next one
    /// acknowledges it. A member should commit its revoked partitions in between, with the
    /// new generation.
    ///
    /// - Throws: ``LogError/Code/unknownMember`` when the member left or its session expired:
    ///   it must join again.
    public func heartbeat(_ group: String, member id: MemberID) throws(LogError) -> GroupMembership {
        try Self.validateGroupName(group)
        try checkOpen()
        expireMembers(of: group)
        guard groups[group]?.members[id] != nil else {
            throw LogError(.unknownMember, "member \(id) is not in group \(group) (it left or its session expired): join again.")
        }
        touch(id, in: group)
        if groups[group]!.partitions != subscribedPartitions(of: groups[group]!) {
            rebalance(group, reason: "the subscribed topics' partitions changed")
        }
        let generation = groups[group]!.generation
        var m = groups[group]!.members[id]!
        if m.knownGeneration < generation {
            m.knownGeneration = generation
            m.positions = [:]
        } else if m.syncedGeneration < generation {
            m.syncedGeneration = generation
        }
        groups[group]!.members[id] = m
        logger.trace("heartbeat", metadata: ["group": "\(group)", "member": "\(id)", "generation": "\(generation)"])
        return membership(of: id, in: group)
    }

    /// Leaves a group: the member's partitions move to the others (a new generation).
    ///
    /// - Throws: ``LogError/Code/unknownMember`` when it is not in the group.
    public func leave(_ group: String, member id: MemberID) throws(LogError) {
        try Self.validateGroupName(group)
        expireMembers(of: group)
        guard groups[group]?.members.removeValue(forKey: id) != nil else {
            throw LogError(.unknownMember, "member \(id) is not in group \(group).")
        }
        if !forgetIfEmpty(group) { rebalance(group, reason: "member \(id) left") }
        armTimer()
    }

    /// The member's view of the group right now.
    public func membership(of id: MemberID, in group: String) -> GroupMembership {
        let state = groups[group]!
        return GroupMembership(
            group: group, memberID: id, generation: state.generation,
            assignment: state.assignment[id] ?? [], rebalancing: state.rebalancing)
    }

    /// The group's live members, sorted.
    public func members(of group: String) -> [MemberID] {
        expireMembers(of: group)
        expireClassic(group)
        return ((groups[group]?.members.keys).map(Array.init) ?? (classicGroups[group]?.members.keys).map(Array.init) ?? []).sorted()
    }

    /// Throws ``LogError/Code/groupLimitReached`` when no other group may get members.
    func checkGroupLimit() throws(LogError) {
        guard groups.count + classicGroups.count < options.maxGroups else {
            throw LogError(.groupLimitReached, "\(options.maxGroups) groups have members, the most this coordinator keeps.")
        }
    }

    // MARK: Rebalancing and expiry

    /// Every partition of the topics the group's members subscribe to, sorted.
    func subscribedPartitions(of state: GroupState) -> [TopicPartition] {
        var topics: Set<String> = []
        for m in state.members.values { topics.formUnion(m.topics) }
        var out: [TopicPartition] = []
        for name in topics.sorted() {
            guard let topic = store.topic(named: name), !topic.configuration.isInternal else { continue }
            for p in topic.partitions.indices { out.append(TopicPartition(name, p)) }
        }
        return out
    }

    /// Starts a new generation with a new assignment.
    func rebalance(_ group: String, reason: String) {
        guard var state = groups[group] else { return }
        state.generation += 1
        state.partitions = subscribedPartitions(of: state)
        state.assignment = state.strategy.assign(
            state.partitions, to: state.members.mapValues(\.topics), previous: state.assignment)
        groups[group] = state
        logger.info("consumer group rebalanced", metadata: [
            "group": "\(group)", "generation": "\(state.generation)", "members": "\(state.members.count)",
            "reason": "\(reason)",
        ])
    }

    /// Moves a member's session deadline.
    func touch(_ id: MemberID, in group: String) {
        guard let timeout = groups[group]?.members[id]?.sessionTimeout else { return }
        groups[group]!.members[id]!.deadline = clock.now.advanced(by: timeout)
    }

    /// Removes the group's members whose session deadline passed, and rebalances if any was.
    func expireMembers(of group: String) {
        guard let state = groups[group] else { return }
        let now = clock.now
        let expired = state.members.filter { $0.value.deadline <= now }.keys
        guard !expired.isEmpty else { return }
        for id in expired { groups[group]!.members[id] = nil }
        if !forgetIfEmpty(group) {
            rebalance(group, reason: "session of \(expired.sorted().map(\.rawValue).joined(separator: ", ")) expired")
        }
    }

    /// Removes a group whose last member left or expired, so that the table of groups holds
    /// only groups with members; remembers when, for the expiry of its commits. Returns
    /// whether it did. (A member joining later starts the group again at generation 1.)
    func forgetIfEmpty(_ group: String) -> Bool {
        guard groups[group]?.members.isEmpty == true else { return false }
        groups[group] = nil
        // Only needed (and only pruned) while commits expire.
        if options.offsetsRetention != nil { lastMemberLeft[group] = currentMilliseconds() }
        logger.info("consumer group has no members left", metadata: ["group": "\(group)"])
        return true
    }

    /// Arms the one session timer at the earliest deadline of any member, unless it already
    /// fires no later than that. A heartbeat only moves deadlines later, so it needs no re-arm:
    /// a timer that fires early finds nothing expired and re-arms for the new earliest.
    func armTimer() {
        guard !closed else { return }
        let managed = groups.values.lazy.flatMap { $0.members.values.lazy.map(\.deadline) }.min()
        let classic = classicGroups.values.lazy.compactMap(\.nextDeadline).min()
        let earliest = [managed, classic].compactMap { $0 }.min()
        guard let earliest else {
            timer?.task.cancel()
            timer = nil
            return
        }
        if let timer, timer.deadline <= earliest { return }
        timer?.task.cancel()
        let task = Task { [weak self] in
            do { try await Task.sleep(until: earliest, clock: .continuous) } catch { return }
            await self?.timerFired()
        }
        timer = (task, earliest)
    }

    private func timerFired() {
        timer = nil
        for group in Array(groups.keys) { expireMembers(of: group) }
        for group in Array(classicGroups.keys) { expireClassic(group) }
        armTimer()
    }
}
