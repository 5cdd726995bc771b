import Foundation
import Synchronization
import TestSupport
import Testing
@testable import EventLog

/// Tables a client can grow have a bound or an expiry; commits are fenced atomically
/// (issue 10, items 18 and 20).
@Suite(.timeLimit(.minutes(1))) struct BoundedTablesTests {
    // MARK: Partition waiters

    /// Two waits on one partition woken by the same append: the group that waits for the
    /// first cancels the other, which was already woken. Nothing of either stays behind.
    @Test func waitersCancelledAfterTheyWereWokenLeaveNothingBehind() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "w", creatingWith: store.defaultTopicConfiguration).partitions[0]
            for i in 0..<300 {
                let offset = Offset(Int64(i))
                let waiter = Task { await Partition.waitForRecords([(p, offset), (p, offset), (p, offset)], timeout: .seconds(30)) }
                while p.waiterCount < 3 { await Task.yield() }
                try await p.append([Record(value: bytes("\(i)"))])
                #expect(await waiter.value)
            }
            // Let cancellation handlers still in flight finish.
            try await Task.sleep(for: .milliseconds(50))
            #expect(p.waiterBookkeepingCount == 0, "waiter entries left behind: \(p.waiterBookkeepingCount)")
            try await store.close()
        }
    }

    // MARK: Consumer groups

    /// A group whose last member left or expired is forgotten (its commits stay).
    @Test func groupsWithoutMembersAreForgotten() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 1))
            let groups = try await GroupCoordinator.open(store: store, logger: testLogger)
            for g in 0..<20 {
                let m = try await groups.join("left-\(g)", topics: ["t"], sessionTimeout: .seconds(30))
                try await groups.leave("left-\(g)", member: m.memberID)
                _ = try await groups.join("expired-\(g)", topics: ["t"], sessionTimeout: .milliseconds(20))
            }
            try await groups.commit([TopicPartition("t", 0): CommittedOffset(0)], for: "left-0")
            let deadline = ContinuousClock.now + .seconds(10)
            while await groups.groups.count > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let kept = await groups.groups.keys.sorted()
            #expect(kept.isEmpty, "groups kept: \(kept)")
            #expect(try await groups.committedOffsets(for: "left-0").count == 1)
            await groups.close()
            try await store.close()
        }
    }

    /// The commits of a group with no members expire once the newest is older than
    /// `offsetsRetention` (Kafka's `offsets.retention.minutes`), for good (tombstones); a group
    /// with a live member keeps them.
    @Test func commitsOfGroupsWithoutMembersExpire() async throws {
        try await withTemporaryDirectory { dir in
            var options = GroupCoordinator.Options()
            options.offsetsRetention = .milliseconds(300)
            options.offsetsRetentionCheckInterval = .milliseconds(50)
            let store = try await openStore(dir)
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 1))
            let groups = try await GroupCoordinator.open(store: store, options: options, logger: testLogger)
            let tp = TopicPartition("t", 0)
            for g in 0..<10 { try await groups.commit([tp: CommittedOffset(Offset(Int64(g)))], for: "standalone-\(g)") }
            let member = try await groups.join("live", topics: ["t"], sessionTimeout: .seconds(30))
            try await groups.commit([tp: CommittedOffset(7)], for: "live",
                                    by: GroupMemberGeneration(memberID: member.memberID, generation: member.generation))
            let deadline = ContinuousClock.now + .seconds(10)
            while await groups.groupNames() != ["live"] && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                _ = try await groups.heartbeat("live", member: member.memberID)
            }
            let names = await groups.groupNames()
            let commitTables = await groups.commits.count
            #expect(names == ["live"])
            #expect(commitTables == 1)
            await groups.close()
            try await store.close()
            // The expiry is durable: a replay does not bring them back.
            let again = try await openStore(dir)
            let reopened = try await GroupCoordinator.open(store: again, logger: testLogger)
            let replayed = await reopened.groupNames()
            #expect(replayed == ["live"])
            await reopened.close()
            try await again.close()
        }
    }

    /// A commit checked in generation g is in the offsets log before any commit of a later
    /// generation: a rebalance and the new owner's commit, made while the old owner's commit
    /// is under way, are never overwritten by it.
    @Test func aCommitCheckedBeforeARebalanceNeverOverwritesTheNextGenerations() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 1))
            let groups = try await GroupCoordinator.open(store: store, logger: testLogger)
            var overwritten = 0
            for round in 0..<40 {
                let group = "race-\(round)"
                let a = try await groups.join(group, topics: ["t"], sessionTimeout: .seconds(30))
                let outcome = try await groups.commitRacingARebalance(group: group, topicPartition: TopicPartition("t", 0), first: a)
                if outcome.firstAccepted && outcome.final != CommittedOffset(20) { overwritten += 1 }
            }
            #expect(overwritten == 0, "in \(overwritten) of 40 rounds a fenced member's commit overwrote the new generation's")
            await groups.close()
            try await store.close()
        }
    }
}

extension GroupCoordinator {
    /// On the actor: `first` commits 10 (with a large metadata, so that its batch takes a
    /// while to encode); while that commit is under way a second member joins (a rebalance)
    /// and commits 20 in the new generation. Returns whether the first commit was accepted and
    /// what is committed in the end.
    func commitRacingARebalance(group: String, topicPartition tp: TopicPartition, first: GroupMembership) async throws
        -> (firstAccepted: Bool, final: CommittedOffset?) {
        let metadata = String(repeating: "m", count: 2 << 20)
        let old = GroupMemberGeneration(memberID: first.memberID, generation: first.generation)
        let firstCommit = Task(priority: .background) {
            try await self.commit([tp: CommittedOffset(10, metadata: metadata)], for: group, by: old)
        }
        await Task.yield()
        let second = try join(group, topics: [tp.topic], sessionTimeout: .seconds(30))
        try await commit([tp: CommittedOffset(20)], for: group,
                         by: GroupMemberGeneration(memberID: second.memberID, generation: second.generation))
        let accepted = (try? await firstCommit.value) != nil
        return (accepted, committedOffset(for: group, tp).map { CommittedOffset($0.offset) })
    }
}
