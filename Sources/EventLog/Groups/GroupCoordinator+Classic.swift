extension GroupCoordinator {
    // MARK: The classic rebalance protocol (Kafka's JoinGroup, SyncGroup, Heartbeat, LeaveGroup)

    /// Joins a group of the classic rebalance protocol, as a Kafka consumer's JoinGroup does;
    /// returns once the group's join phase ends.
    ///
    /// A join of a new member, a changed member or the leader starts a join phase: every
    /// member must join again (the others learn it from ``heartbeatClassic(_:member:generation:)``,
    /// which answers ``LogError/Code/rebalanceInProgress``). The phase ends when all members
    /// have joined again, or when the longest rebalance timeout passes: members that did not
    /// are removed. Then the group has a new generation, the protocol most members prefer
    /// among those all support, and a leader (the previous one if still there, else the
    /// earliest member), which alone learns every member's metadata and sends everyone's
    /// assignment with ``syncClassic(_:member:generation:assignments:)``.
    ///
    /// Waiting suspends the call (no polling); a cancelled call throws `CancellationError`.
    /// A group is of one kind: a classic join of a group whose members joined with
    /// ``join(_:topics:sessionTimeout:strategy:resetPolicy:)`` is refused, and the reverse.
    /// The group's commits are the same whichever kind it is.
    ///
    /// - Returns: ``ClassicJoinOutcome/memberIDRequired(_:)`` for a first join that must be
    ///   repeated with the id given (``ClassicJoinRequest/requiresKnownMemberID``), else the
    ///   generation the member joined.
    /// - Throws: ``LogError/Code/invalidGroupName``; ``LogError/Code/invalidArgument`` for a
    ///   session timeout out of bounds; ``LogError/Code/unknownMember`` for an id the group
    ///   does not know (join again without one); ``LogError/Code/inconsistentGroupProtocol``
    ///   for no protocol, another protocol type or no protocol in common with the others, or a
    ///   group of the other kind; ``LogError/Code/groupLimitReached`` past a bound of
    ///   ``Options``; ``LogError/Code/rebalanceInProgress`` when a later join of the same member
    ///   supersedes this one; ``LogError/Code/closed``.
    public func joinClassic(_ request: ClassicJoinRequest) async throws -> ClassicJoinOutcome {
        try Self.validateGroupName(request.group)
        try checkOpen()
        guard request.sessionTimeout >= options.minSessionTimeout && request.sessionTimeout <= options.maxSessionTimeout else {
            throw LogError(.invalidArgument,
                           "the session timeout must be between \(options.minSessionTimeout) and \(options.maxSessionTimeout), got \(request.sessionTimeout).")
        }
        classicSequence += 1
        let token = classicSequence
        let group = request.group
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ClassicJoinOutcome, any Error>) in
                // On the actor, before any suspension: the join is admitted in this step.
                do {
                    try admitClassicJoin(request, waiter: .init(token: token, continuation: continuation))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            Task { await self.cancelClassicWait(token, in: group) }
        }
    }

    private func admitClassicJoin(_ request: ClassicJoinRequest, waiter: ClassicGroup.Waiter<ClassicJoinOutcome>) throws(LogError) {
        let name = request.group
        expireMembers(of: name)
        expireClassic(name)
        if groups[name] != nil {
            throw LogError(.inconsistentGroupProtocol,
                           "group \(name) has members that joined through the library or HTTP; use another group name or wait until they left.")
        }
        let isNewGroup = classicGroups[name] == nil
        if isNewGroup { try checkGroupLimit() }
        var g = classicGroups.removeValue(forKey: name) ?? ClassicGroup(name: name, protocolType: request.protocolType)
        let before = g.storedBytes
        defer { storeClassic(g, bytesBefore: before) }
        guard g.accepts(protocolType: request.protocolType, protocols: request.protocols, from: request.memberID) else {
            throw LogError(.inconsistentGroupProtocol,
                           "a member of group \(name) must name at least one protocol of type \(g.members.isEmpty ? request.protocolType : g.protocolType) that every other member supports.")
        }
        if g.members.isEmpty { g.protocolType = request.protocolType }
        let metadataBytes = request.protocols.reduce(0) { $0 + $1.name.utf8.count + $1.metadata.count }
        guard metadataBytes <= options.maxMemberMetadataBytes else {
            throw LogError(.groupLimitReached, "a member's protocol metadata may have \(options.maxMemberMetadataBytes) bytes, got \(metadataBytes).")
        }
        let rebalanceTimeout = min(request.rebalanceTimeout > .zero ? request.rebalanceTimeout : request.sessionTimeout, options.maxSessionTimeout)
        let now = clock.now
        classicSequence += 1
        let fresh = ClassicGroup.Member(
            protocols: request.protocols, sessionTimeout: request.sessionTimeout, rebalanceTimeout: rebalanceTimeout,
            deadline: now.advanced(by: request.sessionTimeout), clientID: request.clientID, clientHost: request.clientHost,
            topics: request.topics, order: classicSequence)
        let grows = fresh.storedBytes - (request.memberID.flatMap { g.members[$0]?.storedBytes } ?? 0)
        guard classicBytes + grows <= options.maxClassicGroupBytes else {
            throw LogError(.groupLimitReached, "classic groups hold \(classicBytes) bytes of member metadata, the most this coordinator keeps.")
        }
        let generation = g.generation
        defer { logRebalance(of: g, from: generation) }
        guard let id = request.memberID else {
            guard g.members.count + g.pending.count < options.maxMembersPerGroup else {
                throw LogError(.groupLimitReached, "group \(name) has \(g.members.count + g.pending.count) members, the most a group may have.")
            }
            let id = newClassicMemberID(clientID: request.clientID)
            if request.requiresKnownMemberID {
                g.pending[id] = now.advanced(by: request.sessionTimeout)
                waiter.continuation.resume(returning: .memberIDRequired(id))
                return
            }
            g.join(id, adding: fresh, updating: request, rebalanceTimeout: rebalanceTimeout, now: now, waiter: waiter)
            return
        }
        if g.pending.removeValue(forKey: id) != nil {
            g.join(id, adding: fresh, updating: request, rebalanceTimeout: rebalanceTimeout, now: now, waiter: waiter)
        } else if g.members[id] != nil {
            g.join(id, adding: nil, updating: request, rebalanceTimeout: rebalanceTimeout, now: now, waiter: waiter)
        } else {
            throw LogError(.unknownMember, "member \(id) is not in group \(name) (it left or its session expired): join without a member id.")
        }
    }

    /// Syncs a member of a classic group in `generation`, as Kafka's SyncGroup does: the
    /// leader's sync carries every member's assignment, which the coordinator relays as it
    /// is; every member's sync returns its own assignment once the leader's has arrived.
    ///
    /// - Parameters:
    ///   - group: the group's name.
    ///   - id: the member syncing.
    ///   - generation: the generation its join returned.
    ///   - assignments: the leader's assignments by member (members it leaves out get an empty
    ///     one); ignored for other members.
    /// - Returns: the member's assignment bytes.
    /// - Throws: ``LogError/Code/unknownMember``, ``LogError/Code/staleGeneration``,
    ///   ``LogError/Code/rebalanceInProgress`` when the group is (or starts) rebalancing before
    ///   the leader's assignment arrived, ``LogError/Code/groupLimitReached`` for an assignment
    ///   larger than ``Options/maxMemberMetadataBytes``, ``LogError/Code/closed``.
    public func syncClassic(_ group: String, member id: MemberID, generation: Int,
                            assignments: [MemberID: ClassicAssignment]) async throws -> [UInt8] {
        try Self.validateGroupName(group)
        try checkOpen()
        classicSequence += 1
        let token = classicSequence
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
                do {
                    try admitClassicSync(group, member: id, generation: generation, assignments: assignments,
                                         waiter: .init(token: token, continuation: continuation))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            Task { await self.cancelClassicWait(token, in: group) }
        }
    }

    private func admitClassicSync(_ name: String, member id: MemberID, generation: Int, assignments: [MemberID: ClassicAssignment],
                                  waiter: ClassicGroup.Waiter<[UInt8]>) throws(LogError) {
        expireClassic(name)
        guard var g = classicGroups.removeValue(forKey: name) else {
            throw LogError(.unknownMember, "member \(id) is not in group \(name) (it left or its session expired): join again.")
        }
        let before = g.storedBytes
        defer { storeClassic(g, bytesBefore: before) }
        var given: [MemberID: ClassicAssignment] = [:]
        if id == g.leader {
            for (member, assignment) in assignments where g.members[member] != nil {
                guard assignment.bytes.count <= options.maxMemberMetadataBytes else {
                    throw LogError(.groupLimitReached, "an assignment may have \(options.maxMemberMetadataBytes) bytes, got \(assignment.bytes.count).")
                }
                given[member] = assignment
            }
            let grows = given.values.reduce(0) { $0 + $1.bytes.count }
            guard classicBytes + grows <= options.maxClassicGroupBytes else {
                throw LogError(.groupLimitReached, "classic groups hold \(classicBytes) bytes of member metadata, the most this coordinator keeps.")
            }
        }
        try g.sync(id, generation: generation, assignments: given, now: clock.now, waiter: waiter)
    }

    /// Keeps a classic member's session alive, as Kafka's Heartbeat does.
    ///
    /// - Throws: ``LogError/Code/rebalanceInProgress`` during a join phase (join again),
    ///   ``LogError/Code/staleGeneration``, ``LogError/Code/unknownMember``.
    public func heartbeatClassic(_ group: String, member id: MemberID, generation: Int) throws(LogError) {
        try Self.validateGroupName(group)
        try checkOpen()
        expireClassic(group)
        guard var g = classicGroups.removeValue(forKey: group) else {
            throw LogError(.unknownMember, "member \(id) is not in group \(group) (it left or its session expired): join again.")
        }
        defer { classicGroups[group] = g }
        try g.heartbeat(id, generation: generation, now: clock.now)
    }

    /// Removes members of a classic group, as Kafka's LeaveGroup does: the group rebalances
    /// at once.
    ///
    /// - Returns: per member asked for, `nil` when it left, else the error
    ///   (``LogError/Code/unknownMember``).
    public func leaveClassic(_ group: String, members ids: [MemberID]) throws(LogError) -> [MemberID: LogError?] {
        try Self.validateGroupName(group)
        expireClassic(group)
        var answers: [MemberID: LogError?] = [:]
        guard var g = classicGroups.removeValue(forKey: group) else {
            for id in ids { answers[id] = LogError(.unknownMember, "member \(id) is not in group \(group).") }
            return answers
        }
        let (before, generation) = (g.storedBytes, g.generation)
        var leaving: [MemberID] = []
        for id in ids {
            if g.pending.removeValue(forKey: id) != nil || g.members[id] != nil {
                answers[id] = .some(nil)
                if g.members[id] != nil { leaving.append(id) }
            } else {
                answers[id] = LogError(.unknownMember, "member \(id) is not in group \(group).")
            }
        }
        g.remove(leaving, now: clock.now, reason: "it left")
        logRebalance(of: g, from: generation, reason: "\(leaving.map(\.rawValue).joined(separator: ", ")) left")
        storeClassic(g, bytesBefore: before)
        return answers
    }

    // MARK: Internals

    /// Expires the classic group's pending ids and members, and ends a phase past its deadline.
    func expireClassic(_ name: String) {
        guard var g = classicGroups.removeValue(forKey: name) else { return }
        let (before, generation) = (g.storedBytes, g.generation)
        let gone = g.expire(now: clock.now)
        if !gone.isEmpty {
            logRebalance(of: g, from: generation, reason: "\(gone.map(\.rawValue).joined(separator: ", ")) expired")
        }
        storeClassic(g, bytesBefore: before)
    }

    /// Checks a commit of a member of a classic group; `false` when the group is not classic.
    func checkClassicCommit(_ member: GroupMemberGeneration, in name: String) throws(LogError) -> Bool {
        guard var g = classicGroups.removeValue(forKey: name) else { return false }
        defer { classicGroups[name] = g }
        try g.checkCommit(member.memberID, generation: member.generation, now: clock.now)
        return true
    }

    /// Puts a classic group back (or forgets it once vacant), accounts for its bytes, and arms
    /// the timer for its deadlines.
    private func storeClassic(_ g: ClassicGroup, bytesBefore: Int) {
        defer { armTimer() }
        classicBytes += g.storedBytes - bytesBefore
        if g.isVacant {
            // Remembered for the expiry of its commits, as for the other kind.
            if options.offsetsRetention != nil, g.generation > 0 { lastMemberLeft[g.name] = currentMilliseconds() }
            classicBytes -= g.storedBytes
        } else {
            classicGroups[g.name] = g
        }
    }

    private func cancelClassicWait(_ token: UInt64, in name: String) {
        guard var g = classicGroups.removeValue(forKey: name) else { return }
        g.cancelWait(token)
        classicGroups[name] = g
        armTimer()   // the member's session runs again
    }

    private func logRebalance(of g: ClassicGroup, from generation: Int, reason: String = "members joined") {
        guard g.generation != generation else { return }
        logger.info("consumer group rebalanced", metadata: [
            "group": "\(g.name)", "generation": "\(g.generation)", "members": "\(g.members.count)",
            "protocol": "\(g.protocolName ?? "-")", "reason": "\(reason)",
        ])
    }

    /// A new member id: the client's id (its safe characters, at most 64) and a unique suffix.
    private func newClassicMemberID(clientID: String) -> MemberID {
        let safe = String(clientID.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }.prefix(64))
        memberSequence += 1
        return MemberID((safe.isEmpty ? "member" : safe) + "-" + String(memberSequence, radix: 10) + "-"
                        + String(UInt64.random(in: 0...UInt64.max), radix: 16))
    }
}
