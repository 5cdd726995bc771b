/// The state of one group of the classic rebalance protocol (Kafka's JoinGroup/SyncGroup),
/// kept by ``GroupCoordinator`` beside the groups it assigns itself.
///
/// Phases, as Kafka's group coordinator has them:
///
/// - `empty`: no members (a group only kept for its pending member ids).
/// - `preparingRebalance`: every member must join again; a join waits until all have, or
///   until the rebalance timeout passes (then the missing ones are removed).
/// - `completingRebalance`: the new generation is handed out; followers' syncs wait for the
///   leader's, which carries everyone's assignment; members that do not sync within the
///   rebalance timeout are removed and the group rebalances again.
/// - `stable`: assignments are known; heartbeats keep members alive.
struct ClassicGroup: Sendable {
    enum Phase: Sendable, Equatable {
        case empty, preparingRebalance, completingRebalance, stable
    }

    /// A request waiting for a phase to end, resumed by the coordinator.
    struct Waiter<Value: Sendable>: Sendable {
        /// Names the wait, so that a cancellation resumes this one and no later one.
        var token: UInt64
        var continuation: CheckedContinuation<Value, any Error>
    }

    struct Member: Sendable {
        var protocols: [ClassicProtocol]
        var sessionTimeout: Duration
        var rebalanceTimeout: Duration
        /// When the member is removed unless it is heard from (not while it waits for a phase).
        var deadline: ContinuousClock.Instant
        var clientID: String
        var clientHost: String
        var topics: [String]
        /// Join order: the leader is the earliest member still there.
        var order: UInt64
        /// The leader's assignment for it in the current generation.
        var assignment: ClassicAssignment?
        var joinWaiter: Waiter<ClassicJoinOutcome>?
        var syncWaiter: Waiter<[UInt8]>?

        /// Members waiting for a phase are not expired by their session: the phase's own
        /// deadline bounds the wait.
        var isWaiting: Bool { joinWaiter != nil || syncWaiter != nil }

        /// The bytes the member makes the coordinator keep.
        var storedBytes: Int {
            protocols.reduce(0) { $0 + $1.name.utf8.count + $1.metadata.count } + (assignment?.bytes.count ?? 0)
                + topics.reduce(0) { $0 + $1.utf8.count } + clientID.utf8.count + clientHost.utf8.count
        }
    }

    /// The group's name.
    let name: String
    var phase: Phase = .empty
    var generation = 0
    var protocolType: String
    /// The protocol chosen for the current generation.
    var protocolName: String?
    var leader: MemberID?
    var members: [MemberID: Member] = [:]
    /// Ids handed out by a join that must be repeated, with the deadline of that repeat.
    var pending: [MemberID: ContinuousClock.Instant] = [:]
    /// The end of the join phase (`preparingRebalance`) or of the sync phase (`completingRebalance`).
    var phaseDeadline: ContinuousClock.Instant?

    init(name: String, protocolType: String) {
        self.name = name
        self.protocolType = protocolType
    }

    /// Whether the group holds nothing worth keeping: no members, no pending ids.
    var isVacant: Bool { members.isEmpty && pending.isEmpty }

    /// The bytes the group makes the coordinator keep (its members' metadata and assignments,
    /// and the ids handed out, counted with their deadlines).
    var storedBytes: Int {
        let handedOut = pending.keys.reduce(0) { $0 + $1.rawValue.utf8.count + 16 }
        return members.values.reduce(protocolType.utf8.count + handedOut) { $0 + $1.storedBytes }
    }

    /// The longest rebalance timeout of the members: how long a phase waits.
    var rebalanceTimeout: Duration {
        members.values.map(\.rebalanceTimeout).max() ?? .zero
    }

    /// The members in join order.
    var membersInOrder: [(id: MemberID, member: Member)] {
        members.sorted { $0.value.order < $1.value.order }.map { ($0.key, $0.value) }
    }

    /// Whether `protocols` of a new or changed member can live with the others: the same
    /// protocol type and at least one protocol every member, `id` aside, supports.
    func accepts(protocolType: String, protocols: [ClassicProtocol], from id: MemberID?) -> Bool {
        guard !protocols.isEmpty, !protocolType.isEmpty else { return false }
        let others = members.filter { $0.key != id }
        if others.isEmpty { return true }
        guard protocolType == self.protocolType else { return false }
        var common = Set(protocols.map(\.name))
        for member in others.values { common.formIntersection(member.protocols.map(\.name)) }
        return !common.isEmpty
    }

    /// The protocol for a new generation: among those every member supports, the one most
    /// members list first among them (Kafka's vote); a tie goes to the earliest member's choice.
    func chooseProtocol() -> String? {
        let ordered = membersInOrder
        guard var common = ordered.first.map({ Set($0.member.protocols.map(\.name)) }) else { return nil }
        for (_, member) in ordered.dropFirst() { common.formIntersection(member.protocols.map(\.name)) }
        var votes: [String: Int] = [:]
        var firstChoice: [String] = []
        for (_, member) in ordered {
            guard let vote = member.protocols.first(where: { common.contains($0.name) })?.name else { continue }
            if votes[vote] == nil { firstChoice.append(vote) }
            votes[vote, default: 0] += 1
        }
        let most = votes.values.max() ?? 0
        return firstChoice.first { votes[$0] == most }
    }

    // MARK: Transitions

    /// Admits a join of `id` (a new member when `member` is given), with the join's waiter:
    /// resumed at once when the member learns nothing new, else when the join phase ends.
    mutating func join(_ id: MemberID, adding member: Member?, updating request: ClassicJoinRequest,
                       rebalanceTimeout: Duration, now: ContinuousClock.Instant, waiter: Waiter<ClassicJoinOutcome>) {
        if var member {
            member.joinWaiter = waiter
            members[id] = member
            if phase != .preparingRebalance { prepareRebalance(now: now) }
            completeJoinIfReady(now: now)
            return
        }
        var m = members[id]!
        let changed = m.protocols != request.protocols
        m.protocols = request.protocols
        m.sessionTimeout = request.sessionTimeout
        m.rebalanceTimeout = rebalanceTimeout
        m.deadline = now.advanced(by: request.sessionTimeout)
        m.clientID = request.clientID
        m.clientHost = request.clientHost
        m.topics = request.topics
        // A join sent again while the first still waits: the first is answered as Kafka does.
        m.joinWaiter?.continuation.resume(throwing: LogError(.rebalanceInProgress, "member \(id) of group \(name) joined again; this join is superseded."))
        m.joinWaiter = nil
        let learnsNothingNew: Bool
        switch phase {
        case .completingRebalance: learnsNothingNew = !changed
        case .stable: learnsNothingNew = !changed && id != leader
        case .preparingRebalance, .empty: learnsNothingNew = false
        }
        if learnsNothingNew {
            members[id] = m
            waiter.continuation.resume(returning: .joined(joinResult(for: id)))
            return
        }
        m.joinWaiter = waiter
        members[id] = m
        if phase != .preparingRebalance { prepareRebalance(now: now) }
        completeJoinIfReady(now: now)
    }

    /// Starts a join phase: every member must join again. Syncs waiting for the leader's
    /// assignment are answered with ``LogError/Code/rebalanceInProgress``.
    mutating func prepareRebalance(now: ContinuousClock.Instant) {
        if phase == .completingRebalance || phase == .stable {
            for id in Array(members.keys) {
                members[id]!.assignment = nil
                if let waiter = members[id]!.syncWaiter {
                    members[id]!.syncWaiter = nil
                    waiter.continuation.resume(throwing: LogError(.rebalanceInProgress, "group \(name) is rebalancing again: join again."))
                }
            }
        }
        phase = .preparingRebalance
        phaseDeadline = now.advanced(by: rebalanceTimeout)
    }

    /// Ends the join phase once every member has joined again.
    mutating func completeJoinIfReady(now: ContinuousClock.Instant) {
        guard phase == .preparingRebalance, members.values.allSatisfy({ $0.joinWaiter != nil }) else { return }
        completeJoin(now: now)
    }

    /// Ends the join phase: a new generation, a protocol, a leader; every waiting join is
    /// answered and the sync phase starts (or the group is empty).
    mutating func completeJoin(now: ContinuousClock.Instant) {
        generation += 1
        guard !members.isEmpty else {
            phase = .empty
            protocolName = nil
            leader = nil
            phaseDeadline = nil
            return
        }
        // Every join checked that the member shares a protocol with all the others.
        guard let chosen = chooseProtocol() else { preconditionFailure("the members of group \(name) share no protocol") }
        protocolName = chosen
        if leader.map({ members[$0] == nil }) ?? true { leader = membersInOrder.first?.id }
        phase = .completingRebalance
        phaseDeadline = now.advanced(by: rebalanceTimeout)
        for id in Array(members.keys) {
            members[id]!.deadline = now.advanced(by: members[id]!.sessionTimeout)
            if let waiter = members[id]!.joinWaiter {
                members[id]!.joinWaiter = nil
                waiter.continuation.resume(returning: .joined(joinResult(for: id)))
            }
        }
    }

    /// What `id` learns of the current generation (the leader: every member's metadata).
    func joinResult(for id: MemberID) -> ClassicJoinResult {
        let chosen = protocolName ?? ""
        let everyone = id == leader
            ? membersInOrder.map { ClassicJoinResult.Member(id: $0.id, metadata: $0.member.protocols.first { $0.name == chosen }?.metadata ?? []) }
            : []
        return ClassicJoinResult(generation: generation, protocolName: chosen, leader: leader ?? id, memberID: id, members: everyone)
    }

    /// A sync of `id` in `generation`: the leader's carries every member's assignment. The
    /// waiter is resumed with the member's assignment once the leader's sync arrived.
    mutating func sync(_ id: MemberID, generation: Int, assignments: [MemberID: ClassicAssignment],
                       now: ContinuousClock.Instant, waiter: Waiter<[UInt8]>) throws(LogError) {
        guard var m = members[id] else { throw unknownMember(id) }
        guard generation == self.generation else { throw staleGeneration(id, generation) }
        m.deadline = now.advanced(by: m.sessionTimeout)
        switch phase {
        case .empty, .preparingRebalance:
            throw LogError(.rebalanceInProgress, "group \(name) is rebalancing: member \(id) must join again.")
        case .stable:
            members[id] = m
            waiter.continuation.resume(returning: m.assignment?.bytes ?? [])
        case .completingRebalance:
            m.syncWaiter?.continuation.resume(throwing: LogError(.rebalanceInProgress, "member \(id) of group \(name) synced again; this sync is superseded."))
            m.syncWaiter = waiter
            members[id] = m
            guard id == leader else { return }
            phase = .stable
            phaseDeadline = nil
            for mid in Array(members.keys) {
                members[mid]!.assignment = assignments[mid] ?? ClassicAssignment(bytes: [])
                members[mid]!.deadline = now.advanced(by: members[mid]!.sessionTimeout)
                if let w = members[mid]!.syncWaiter {
                    members[mid]!.syncWaiter = nil
                    w.continuation.resume(returning: members[mid]!.assignment!.bytes)
                }
            }
        }
    }

    /// A heartbeat of `id` in `generation`; throws ``LogError/Code/rebalanceInProgress`` during
    /// the join phase, when the member must join again.
    mutating func heartbeat(_ id: MemberID, generation: Int, now: ContinuousClock.Instant) throws(LogError) {
        guard members[id] != nil else { throw unknownMember(id) }
        guard generation == self.generation else { throw staleGeneration(id, generation) }
        members[id]!.deadline = now.advanced(by: members[id]!.sessionTimeout)
        if phase == .preparingRebalance {
            throw LogError(.rebalanceInProgress, "group \(name) is rebalancing: member \(id) must join again.")
        }
    }

    /// Checks a commit of `id` in `generation`: accepted while stable and during the join phase
    /// (so that a member commits what it processed before it joins again), refused between the
    /// join phase and the leader's assignment.
    mutating func checkCommit(_ id: MemberID, generation: Int, now: ContinuousClock.Instant) throws(LogError) {
        guard members[id] != nil else { throw unknownMember(id) }
        guard generation == self.generation else { throw staleGeneration(id, generation) }
        if phase == .completingRebalance {
            throw LogError(.rebalanceInProgress, "group \(name) is completing a rebalance: member \(id) commits once it has its assignment.")
        }
        members[id]!.deadline = now.advanced(by: members[id]!.sessionTimeout)
    }

    /// Removes members (waits of theirs are answered with ``LogError/Code/unknownMember``) and
    /// rebalances at once.
    mutating func remove(_ ids: [MemberID], now: ContinuousClock.Instant, reason: String) {
        var removed = false
        for id in ids {
            guard let m = members.removeValue(forKey: id) else { continue }
            removed = true
            let error = LogError(.unknownMember, "member \(id) is no longer in group \(name) (\(reason)).")
            m.joinWaiter?.continuation.resume(throwing: error)
            m.syncWaiter?.continuation.resume(throwing: error)
        }
        guard removed else { return }
        if leader.map({ members[$0] == nil }) ?? false { leader = nil }
        if phase == .stable || phase == .completingRebalance { prepareRebalance(now: now) }
        completeJoinIfReady(now: now)
    }

    /// Removes expired pending ids and members, and ends a phase whose deadline passed.
    /// Returns the members removed.
    mutating func expire(now: ContinuousClock.Instant) -> [MemberID] {
        pending = pending.filter { $0.value > now }
        var gone = members.filter { !$0.value.isWaiting && $0.value.deadline <= now }.map(\.key)
        remove(gone, now: now, reason: "its session expired")
        if let deadline = phaseDeadline, deadline <= now {
            switch phase {
            case .preparingRebalance:
                // Members that did not join again in time are removed; the others go on.
                let late = members.filter { $0.value.joinWaiter == nil }.map(\.key)
                for id in late { members[id] = nil }
                gone += late
                if leader.map({ members[$0] == nil }) ?? false { leader = nil }
                completeJoin(now: now)
            case .completingRebalance:
                let late = members.filter { $0.value.syncWaiter == nil }.map(\.key)
                gone += late
                remove(late, now: now, reason: "it did not sync within the rebalance timeout")
            case .empty, .stable:
                phaseDeadline = nil
            }
        }
        return gone
    }

    /// The earliest moment something of the group expires, if any.
    var nextDeadline: ContinuousClock.Instant? {
        var earliest = phaseDeadline
        for d in pending.values where earliest.map({ d < $0 }) ?? true { earliest = d }
        for m in members.values where !m.isWaiting && (earliest.map { m.deadline < $0 } ?? true) { earliest = m.deadline }
        return earliest
    }

    /// Answers every waiting request with `error` (the coordinator closes).
    mutating func abandonAll(_ error: LogError) {
        for id in Array(members.keys) {
            members[id]!.joinWaiter?.continuation.resume(throwing: error)
            members[id]!.syncWaiter?.continuation.resume(throwing: error)
            members[id]!.joinWaiter = nil
            members[id]!.syncWaiter = nil
        }
    }

    /// Answers the wait named `token` with `CancellationError`, if it still waits. The member
    /// stays; the phase's deadline or its session removes it if it does not come back.
    mutating func cancelWait(_ token: UInt64) {
        for id in Array(members.keys) {
            if let w = members[id]!.joinWaiter, w.token == token {
                members[id]!.joinWaiter = nil
                members[id]!.deadline = ContinuousClock.now.advanced(by: members[id]!.sessionTimeout)
                w.continuation.resume(throwing: CancellationError())
            }
            if let w = members[id]!.syncWaiter, w.token == token {
                members[id]!.syncWaiter = nil
                members[id]!.deadline = ContinuousClock.now.advanced(by: members[id]!.sessionTimeout)
                w.continuation.resume(throwing: CancellationError())
            }
        }
    }

    private func unknownMember(_ id: MemberID) -> LogError {
        LogError(.unknownMember, "member \(id) is not in group \(name) (it left or its session expired): join again.")
    }

    private func staleGeneration(_ id: MemberID, _ generation: Int) -> LogError {
        LogError(.staleGeneration, "member \(id) is in generation \(generation) but group \(name) is in generation \(self.generation): join again.")
    }
}
