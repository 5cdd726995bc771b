import Foundation
import Logging
import TestSupport
import Testing
@testable import EventLog

/// Opens a store with topic `t` (2 partitions) and a group coordinator, closes both afterwards.
private func withClassic(
    configure: (inout GroupCoordinator.Options) -> Void = { _ in },
    _ body: (LogStore, GroupCoordinator) async throws -> Void
) async throws {
    try await withTemporaryDirectory { dir in
        let store = try await openStore(dir)
        _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 2))
        var options = GroupCoordinator.Options()
        configure(&options)
        let groups = try await GroupCoordinator.open(store: store, options: options, logger: testLogger)
        do {
            try await body(store, groups)
        } catch {
            await groups.close()
            try? await store.close()
            throw error
        }
        await groups.close()
        try await store.close()
    }
}

private func request(
    _ id: MemberID? = nil, group: String = "g", protocols: [String] = ["range"], type: String = "consumer",
    knownID: Bool = false, session: Duration = .seconds(60), rebalance: Duration = .seconds(60), metadata: [UInt8] = [7]
) -> ClassicJoinRequest {
    ClassicJoinRequest(group: group, memberID: id, requiresKnownMemberID: knownID, protocolType: type,
                       protocols: protocols.map { ClassicProtocol(name: $0, metadata: metadata + Array($0.utf8)) },
                       sessionTimeout: session, rebalanceTimeout: rebalance, clientID: "test", clientHost: "/127.0.0.1",
                       topics: ["t"])
}

private func joined(_ outcome: ClassicJoinOutcome) throws -> ClassicJoinResult {
    guard case .joined(let result) = outcome else { throw LogError(.invalidArgument, "expected a completed join, got \(outcome)") }
    return result
}

/// Waits (at most 5 s) until `condition` holds: the test's way to know a join is admitted.
private func eventually(_ what: String, _ condition: () async -> Bool) async throws {
    for _ in 0..<500 {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting until \(what)")
    throw CancellationError()
}

private func expectError<T>(_ code: LogError.Code, _ body: () async throws -> T) async {
    do {
        _ = try await body()
        Issue.record("expected \(code)")
    } catch let error as LogError {
        #expect(error.code == code, "\(error)")
    } catch {
        Issue.record("expected \(code), got \(error)")
    }
}

/// A group of one member `a`, stable in generation 1, with all of `t`.
private func stableGroupOfOne(_ groups: GroupCoordinator, group: String = "g", rebalance: Duration = .seconds(60)) async throws -> MemberID {
    let started = ContinuousClock.now
    let a = try await inTime(rebalance, since: started) { try joined(try await groups.joinClassic(request(group: group, rebalance: rebalance))) }
    #expect(a.generation == 1 && a.leader == a.memberID && a.members.map(\.id) == [a.memberID])
    // The leader must sync within its rebalance timeout.
    let mine = try await inTime(rebalance, since: started) {
        try await groups.syncClassic(group, member: a.memberID, generation: 1,
                                     assignments: [a.memberID: ClassicAssignment(bytes: [1, 2], partitions: [TopicPartition("t", 0)])])
    }
    #expect(mine == [1, 2])
    return a.memberID
}

/// The machine stalled (make test on two busy cores can pause a test for many seconds) longer
/// than a timeout the scenario needs not to pass: it says nothing, and is tried again.
private struct Stalled: Error {}

/// Runs a step that must finish before `limit` has passed `since`; a failure after that is a stall.
private func inTime<T>(_ limit: Duration, since start: ContinuousClock.Instant, _ step: () async throws -> T) async throws -> T {
    do {
        return try await step()
    } catch {
        if ContinuousClock.now - start >= limit { throw Stalled() }
        throw error
    }
}

/// Runs a scenario with short timeouts on groups g1, g2, g3 until one run was not stalled.
private func retryingStalls(_ scenario: (String) async throws -> Void) async throws {
    for attempt in 1...3 {
        do {
            try await scenario("g\(attempt)")
            return
        } catch is Stalled {
            continue
        }
    }
    Issue.record("the machine stalled longer than the timeouts under test in three runs")
}

@Suite(.timeLimit(.minutes(1))) struct ClassicGroupTests {
    /// The first member is the leader, gets its own metadata, and its assignment is relayed as given.
    @Test func firstJoinCompletesAtOnceAndTheLeadersAssignmentIsRelayed() async throws {
        try await withClassic { _, groups in
            let a = try joined(try await groups.joinClassic(request()))
            #expect(a.generation == 1 && a.protocolName == "range" && a.leader == a.memberID)
            #expect(a.members == [.init(id: a.memberID, metadata: [7] + Array("range".utf8))])
            #expect(a.memberID.rawValue.hasPrefix("test-"))
            let before = try await groups.describe("g")
            #expect(before.state == .rebalancing && before.protocolType == "consumer" && before.protocolName == "range")
            let bytes = try await groups.syncClassic("g", member: a.memberID, generation: 1,
                                                     assignments: [a.memberID: ClassicAssignment(bytes: [9, 9], partitions: [TopicPartition("t", 1)])])
            #expect(bytes == [9, 9])
            let after = try await groups.describe("g")
            #expect(after.state == .stable && after.generation == 1)
            #expect(after.members.map(\.assignment) == [[TopicPartition("t", 1)]] && after.members.map(\.topics) == [["t"]])
            #expect(after.members.first?.clientID == "test" && after.members.first?.clientHost == "/127.0.0.1")
            try await groups.heartbeatClassic("g", member: a.memberID, generation: 1)
            // A join without change by a follower-less leader in Stable rebalances (it may have new metadata).
            let again = try joined(try await groups.joinClassic(request(a.memberID)))
            #expect(again.generation == 2)
        }
    }

    @Test func dynamicMembersGetAnIdFirstWhenAKnownIdIsRequired() async throws {
        try await withClassic { _, groups in
            guard case .memberIDRequired(let id) = try await groups.joinClassic(request(knownID: true)) else {
                Issue.record("no MEMBER_ID_REQUIRED")
                return
            }
            #expect(try await groups.describe("g").members.isEmpty, "a pending id is no member")
            await expectError(.unknownMember) { try await groups.joinClassic(request(MemberID("made-up"), knownID: true)) }
            let a = try joined(try await groups.joinClassic(request(id, knownID: true)))
            #expect(a.memberID == id && a.generation == 1)
        }
    }

    /// A second member starts a join phase: the first learns it from its heartbeat (27), joins
    /// again, and both get generation 2; only the leader sees the members; the followers' sync
    /// waits for the leader's.
    @Test func aNewMemberRebalancesTheGroupAndTheLeaderAssignsEveryone() async throws {
        try await withClassic { _, groups in
            let a = try await stableGroupOfOne(groups)
            let bJoin = Task { try await groups.joinClassic(request()) }
            try await eventually("b joined") { (try? await groups.describe("g").members.count) == 2 }
            await expectError(.rebalanceInProgress) { try await groups.heartbeatClassic("g", member: a, generation: 1) }
            // The old generation may still commit during the join phase (revoked partitions).
            try await groups.commit([TopicPartition("t", 0): CommittedOffset(5)], for: "g", by: GroupMemberGeneration(memberID: a, generation: 1))
            let aAgain = try joined(try await groups.joinClassic(request(a)))
            let b = try joined(try await bJoin.value)
            #expect(aAgain.generation == 2 && b.generation == 2 && aAgain.leader == a && b.leader == a)
            #expect(aAgain.members.map(\.id) == [a, b.memberID] && b.members.isEmpty)
            // Between the join phase and the leader's sync, commits wait for the assignment: 27.
            await expectError(.rebalanceInProgress) {
                try await groups.commit([TopicPartition("t", 0): CommittedOffset(6)], for: "g", by: GroupMemberGeneration(memberID: a, generation: 2))
            }
            try await groups.heartbeatClassic("g", member: b.memberID, generation: 2)
            let bSync = Task { try await groups.syncClassic("g", member: b.memberID, generation: 2, assignments: [:]) }
            try await Task.sleep(for: .milliseconds(50))
            let aBytes = try await groups.syncClassic("g", member: a, generation: 2, assignments: [
                a: ClassicAssignment(bytes: [0xa], partitions: [TopicPartition("t", 0)]),
                b.memberID: ClassicAssignment(bytes: [0xb], partitions: [TopicPartition("t", 1)]),
            ])
            #expect(aBytes == [0xa])
            #expect(try await bSync.value == [0xb])
            await expectError(.staleGeneration) { try await groups.heartbeatClassic("g", member: a, generation: 1) }
            await expectError(.staleGeneration) {
                try await groups.commit([TopicPartition("t", 0): CommittedOffset(7)], for: "g", by: GroupMemberGeneration(memberID: a, generation: 1))
            }
            try await groups.commit([TopicPartition("t", 1): CommittedOffset(3, metadata: "m")], for: "g",
                                    by: GroupMemberGeneration(memberID: b.memberID, generation: 2))
            // The same commits as any group's: what HTTP and log-dump show.
            #expect(try await groups.committedOffsets(for: "g") == [TopicPartition("t", 0): CommittedOffset(5),
                                                                   TopicPartition("t", 1): CommittedOffset(3, metadata: "m")])
            let described = try await groups.describe("g")
            #expect(described.state == .stable && described.generation == 2)
            #expect(described.members.map(\.assignment).sorted { $0.first! < $1.first! } == [[TopicPartition("t", 0)], [TopicPartition("t", 1)]])
        }
    }

    @Test func theProtocolIsOneEveryMemberSupports() async throws {
        try await withClassic { _, groups in
            let a = try joined(try await groups.joinClassic(request(protocols: ["range", "roundrobin"])))
            _ = try await groups.syncClassic("g", member: a.memberID, generation: 1, assignments: [:])
            await expectError(.inconsistentGroupProtocol) { try await groups.joinClassic(request(protocols: ["sticky"])) }
            await expectError(.inconsistentGroupProtocol) { try await groups.joinClassic(request(protocols: ["range"], type: "connect")) }
            await expectError(.inconsistentGroupProtocol) { try await groups.joinClassic(request(protocols: [])) }
            let bJoin = Task { try await groups.joinClassic(request(protocols: ["sticky", "roundrobin"])) }
            try await eventually("b joined") { (try? await groups.describe("g").members.count) == 2 }
            let again = try joined(try await groups.joinClassic(request(a.memberID, protocols: ["range", "roundrobin"])))
            let b = try joined(try await bJoin.value)
            #expect(again.protocolName == "roundrobin" && b.protocolName == "roundrobin")
            #expect(again.members.map(\.metadata) == [[7] + Array("roundrobin".utf8), [7] + Array("roundrobin".utf8)])
        }
    }

    @Test func leaveRebalancesAtOnce() async throws {
        try await withClassic { _, groups in
            let a = try await stableGroupOfOne(groups)
            let bJoin = Task { try await groups.joinClassic(request()) }
            try await eventually("b joined") { (try? await groups.describe("g").members.count) == 2 }
            _ = try joined(try await groups.joinClassic(request(a)))
            let b = try joined(try await bJoin.value)
            async let bSync = groups.syncClassic("g", member: b.memberID, generation: 2, assignments: [:])
            _ = try await groups.syncClassic("g", member: a, generation: 2, assignments: [:])
            _ = try await bSync
            let answers = try await groups.leaveClassic("g", members: [b.memberID, MemberID("nobody")])
            #expect(answers[b.memberID]! == nil && answers[MemberID("nobody")]!?.code == .unknownMember)
            await expectError(.rebalanceInProgress) { try await groups.heartbeatClassic("g", member: a, generation: 2) }
            let alone = try joined(try await groups.joinClassic(request(a)))
            #expect(alone.generation == 3 && alone.members.map(\.id) == [a])
            // The last member leaving forgets the group; its commits stay.
            try await groups.commit([TopicPartition("t", 0): CommittedOffset(1)], for: "g", by: nil)
            _ = try await groups.leaveClassic("g", members: [a])
            let empty = try await groups.describe("g")
            #expect(empty.state == .empty && empty.members.isEmpty && empty.commits.count == 1)
        }
    }

    /// A member not heard from within its session timeout is removed by the coordinator's timer
    /// (no request needed) and the group rebalances.
    @Test func sessionTimeoutEvicts() async throws {
        try await withClassic { _, groups in
            // a joins and stays silent in the sync phase; b (a 300 ms session) waits in its join,
            // which no session ends, until a joins again; then b's session runs.
            let a = try joined(try await groups.joinClassic(request()))
            let bJoin = Task { try await groups.joinClassic(request(session: .milliseconds(300))) }
            try await eventually("b joined") { (try? await groups.describe("g").members.count) == 2 }
            let started = ContinuousClock.now
            _ = try joined(try await groups.joinClassic(request(a.memberID)))
            let b = try joined(try await bJoin.value)
            #expect(b.generation == 2)
            try await eventually("b expired") { await groups.members(of: "g") == [a.memberID] }
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            await expectError(.unknownMember) { try await groups.heartbeatClassic("g", member: b.memberID, generation: 2) }
            await expectError(.rebalanceInProgress) { try await groups.heartbeatClassic("g", member: a.memberID, generation: 2) }
        }
    }

    /// A member that does not join again within the rebalance timeout is removed, and the
    /// join phase ends without it.
    @Test func rebalanceTimeoutRemovesMembersThatDoNotJoinAgain() async throws {
        try await withClassic { _, groups in
            try await retryingStalls { group in
                let a = try await stableGroupOfOne(groups, group: group, rebalance: .milliseconds(300))
                let started = ContinuousClock.now
                let b = try joined(try await groups.joinClassic(request(group: group, rebalance: .milliseconds(300))))
                #expect(ContinuousClock.now - started >= .milliseconds(300))
                #expect(b.generation == 2 && b.leader == b.memberID && b.members.map(\.id) == [b.memberID])
                await expectError(.unknownMember) { try await groups.heartbeatClassic(group, member: a, generation: 1) }
            }
        }
    }

    /// A leader that never syncs is removed after the rebalance timeout; the waiting followers
    /// are told to join again.
    /// (Two-second phases: with 300 ms ones, `make test` on two busy cores stalled the scenario
    /// in three runs out of three.)
    @Test func aLeaderThatNeverSyncsIsRemoved() async throws {
        try await withClassic { _, groups in
            try await retryingStalls { group in
                let a = try await stableGroupOfOne(groups, group: group, rebalance: .seconds(2))
                let bJoin = Task { try await groups.joinClassic(request(group: group, rebalance: .seconds(2))) }
                let joinPhase = ContinuousClock.now
                try await eventually("b joined") { (try? await groups.describe(group).members.count) == 2 }
                // a must join again within the join phase, and b sync within the sync phase.
                _ = try await inTime(.seconds(2), since: joinPhase) { try joined(try await groups.joinClassic(request(a, group: group, rebalance: .seconds(2)))) }
                let syncPhase = ContinuousClock.now
                let b = try await inTime(.seconds(2), since: joinPhase) { try joined(try await bJoin.value) }
                do {
                    _ = try await groups.syncClassic(group, member: b.memberID, generation: 2, assignments: [:])
                    Issue.record("the sync was answered without the leader's")
                } catch let error as LogError where error.code == .unknownMember && ContinuousClock.now - syncPhase >= .seconds(2) {
                    throw Stalled()
                } catch let error as LogError {
                    #expect(error.code == .rebalanceInProgress, "\(error)")
                }
                #expect(ContinuousClock.now - syncPhase >= .milliseconds(1_900))
                #expect(await groups.members(of: group) == [b.memberID])
            }
        }
    }

    @Test func aGroupIsOfOneKind() async throws {
        try await withClassic { _, groups in
            _ = try await groups.join("h", topics: ["t"], sessionTimeout: .seconds(10))
            await expectError(.inconsistentGroupProtocol) { try await groups.joinClassic(request(group: "h")) }
            _ = try joined(try await groups.joinClassic(request(group: "k")))
            await expectError(.inconsistentGroupProtocol) { try await groups.join("k", topics: ["t"], sessionTimeout: .seconds(10)) }
            #expect(await groups.groupNames() == ["h", "k"])
        }
    }

    @Test func boundsOnGroupsMembersAndMetadata() async throws {
        try await withClassic(configure: {
            $0.maxGroups = 2
            $0.maxMembersPerGroup = 2
            $0.maxMemberMetadataBytes = 100
        }) { _, groups in
            _ = try await groups.joinClassic(request(group: "g1", knownID: true))
            _ = try await groups.joinClassic(request(group: "g1", knownID: true))
            await expectError(.groupLimitReached) { try await groups.joinClassic(request(group: "g1", knownID: true)) }
            _ = try await groups.join("g2", topics: ["t"], sessionTimeout: .seconds(10))
            await expectError(.groupLimitReached) { try await groups.joinClassic(request(group: "g3", knownID: true)) }
            await expectError(.groupLimitReached) { try await groups.join("g4", topics: ["t"], sessionTimeout: .seconds(10)) }
            await expectError(.groupLimitReached) {
                try await groups.joinClassic(request(group: "g1", metadata: Array(repeating: 0, count: 101)))
            }
        }
    }

    @Test func theSessionTimeoutIsRangeChecked() async throws {
        try await withClassic { _, groups in
            await expectError(.invalidArgument) { try await groups.joinClassic(request(session: .milliseconds(-1))) }
            await expectError(.invalidArgument) { try await groups.joinClassic(request(session: .seconds(7200))) }
            await expectError(.invalidGroupName) { try await groups.joinClassic(request(group: "bad name")) }
        }
    }

    /// A cancelled join (the connection's task ends) is answered at once; the member stays until
    /// its session or the phase's deadline removes it.
    @Test func aCancelledJoinIsAnswered() async throws {
        try await withClassic { _, groups in
            let a = try await stableGroupOfOne(groups)
            let bJoin = Task { try await groups.joinClassic(request()) }
            try await eventually("b joined") { (try? await groups.describe("g").members.count) == 2 }
            bJoin.cancel()
            await #expect(throws: CancellationError.self) { try await bJoin.value }
            #expect(await groups.members(of: "g").count == 2)
            _ = a
        }
    }

    @Test func closingAnswersWaitingJoins() async throws {
        try await withClassic { _, groups in
            _ = try await stableGroupOfOne(groups)
            let bJoin = Task { try await groups.joinClassic(request()) }
            try await eventually("b joined") { (try? await groups.describe("g").members.count) == 2 }
            await groups.close()
            await expectError(.closed) { try await bJoin.value }
        }
    }
}
