import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
@testable import EventLog

/// Opens a store and its group coordinator in a fresh directory, closes both afterwards.
private func withGroups<T>(
    options: GroupCoordinator.Options = .init(), logger: Logger = testLogger,
    _ body: (LogStore, GroupCoordinator) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { dir in
        let store = try await openStore(dir)
        let groups = try await GroupCoordinator.open(store: store, options: options, logger: logger)
        do {
            let result = try await body(store, groups)
            await groups.close()
            try await store.close()
            return result
        } catch {
            await groups.close()
            try? await store.close()
            throw error
        }
    }
}

/// Heartbeats every member until none is behind the group's generation.
private func settle(_ groups: GroupCoordinator, _ group: String, _ members: [MemberID]) async throws -> [MemberID: GroupMembership] {
    for _ in 0..<10 {
        var answers: [MemberID: GroupMembership] = [:]
        for m in members { answers[m] = try await groups.heartbeat(group, member: m) }
        if !answers.values.contains(where: \.rebalancing), Set(answers.values.map(\.generation)).count == 1 { return answers }
    }
    Issue.record("the group did not settle")
    return [:]
}

@Suite(.timeLimit(.minutes(1))) struct GroupsTests {
    @Test(arguments: [AssignmentStrategy.range, .roundRobin, .sticky], [2, 3])
    func membersSplitSixPartitionsExactlyOnce(strategy: AssignmentStrategy, memberCount: Int) async throws {
        try await withGroups { store, groups in
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 6))
            var members: [MemberID] = []
            for _ in 0..<memberCount {
                members.append(try await groups.join("g", topics: ["t"], sessionTimeout: .seconds(10), strategy: strategy).memberID)
            }
            let answers = try await settle(groups, "g", members)
            let all = answers.values.flatMap(\.assignment)
            #expect(all.sorted() == (0..<6).map { TopicPartition("t", $0) }, "every partition exactly once")
            #expect(Set(answers.values.map { $0.assignment.count }) == [6 / memberCount], "balanced")
        }
    }

    @Test func stickyMovesOnlyWhatBalanceNeeds() {
        let partitions = (0..<6).map { TopicPartition("t", $0) }
        let (a, b, c) = (MemberID("a"), MemberID("b"), MemberID("c"))
        let subs: [MemberID: Set<String>] = [a: ["t"], b: ["t"], c: ["t"]]
        let three = AssignmentStrategy.sticky.assign(partitions, to: subs)
        // c leaves: a and b keep all they had and split c's two.
        let two = AssignmentStrategy.sticky.assign(partitions, to: [a: ["t"], b: ["t"]], previous: three)
        #expect(Set(three[a]!).isSubset(of: two[a]!) && Set(three[b]!).isSubset(of: two[b]!))
        #expect(two[a]!.count == 3 && two[b]!.count == 3)
        // c comes back: exactly two partitions move to it.
        let again = AssignmentStrategy.sticky.assign(partitions, to: subs, previous: two)
        #expect(again[c]!.count == 2)
        #expect(Set(again[a]!).isSubset(of: two[a]!) && Set(again[b]!).isSubset(of: two[b]!))
    }

    /// An operator's view: members with their partitions and the commits; a group with
    /// members cannot be deleted; a deleted group's commits stay deleted after a restart.
    @Test func describeAndDeleteGroups() async throws {
        try await withTemporaryDirectory { dir in
            var store = try await openStore(dir)
            var groups = try await GroupCoordinator.open(store: store, logger: testLogger)
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 2))
            let a = try await groups.join("g", topics: ["t"], sessionTimeout: .seconds(10))
            try await groups.commit([TopicPartition("t", 1): CommittedOffset(5, metadata: "m")], for: "g",
                                    by: GroupMemberGeneration(memberID: a.memberID, generation: a.generation))
            let described = try await groups.describe("g")
            #expect(described.state == .stable)
            #expect(described.members.map(\.id) == [a.memberID])
            #expect(described.members[0].assignment == [TopicPartition("t", 0), TopicPartition("t", 1)])
            #expect(described.commits == [TopicPartition("t", 1): CommittedOffset(5, metadata: "m")])
            #expect(await groups.groupNames() == ["g"])
            do {
                try await groups.deleteGroup("g")
                Issue.record("a group with members was deleted")
            } catch LogError.Code.groupNotEmpty {}
            try await groups.leave("g", member: a.memberID)
            #expect(try await groups.describe("g").state == .empty)
            try await groups.deleteGroup("g")
            await #expect(throws: LogError.self) { try await groups.describe("g") }
            do {
                try await groups.deleteGroup("g")
                Issue.record("deleting twice succeeded")
            } catch LogError.Code.groupNotFound {}
            await groups.close()
            try await store.close()
            store = try await openStore(dir)
            groups = try await GroupCoordinator.open(store: store, logger: testLogger)
            #expect(await groups.groupNames().isEmpty)
            await groups.close()
            try await store.close()
        }
    }

    @Test func staleGenerationIsFenced() async throws {
        try await withGroups { store, groups in
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 2))
            let a = try await groups.join("g", topics: ["t"], sessionTimeout: .seconds(10))
            let b = try await groups.join("g", topics: ["t"], sessionTimeout: .seconds(10))
            #expect(b.generation == a.generation + 1)
            let old = GroupMemberGeneration(memberID: a.memberID, generation: a.generation)
            await #expect(throws: LogError.self) {
                try await groups.commit([TopicPartition("t", 0): CommittedOffset(1)], for: "g", by: old)
            }
            do {
                try await groups.commit([TopicPartition("t", 0): CommittedOffset(1)], for: "g", by: old)
            } catch LogError.Code.staleGeneration {
                // expected
            }
            // Once it learns the new generation, its commits are accepted again.
            let learned = try await groups.heartbeat("g", member: a.memberID)
            try await groups.commit([TopicPartition("t", 0): CommittedOffset(1)], for: "g",
                                    by: GroupMemberGeneration(memberID: a.memberID, generation: learned.generation))
            #expect(try await groups.committedOffsets(for: "g") == [TopicPartition("t", 0): CommittedOffset(1)])
            // A member that is gone cannot commit.
            try await groups.leave("g", member: b.memberID)
            do {
                try await groups.commit([TopicPartition("t", 1): CommittedOffset(1)], for: "g",
                                        by: GroupMemberGeneration(memberID: b.memberID, generation: b.generation))
                Issue.record("expected unknownMember")
            } catch LogError.Code.unknownMember {}
        }
    }

    @Test func timerExpiresSilentMembersWithoutAnyCall() async throws {
        try await withGroups { store, groups in
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 4))
            let a = try await groups.join("g", topics: ["t"], sessionTimeout: .seconds(10))
            _ = try await groups.join("g", topics: ["t"], sessionTimeout: .milliseconds(100))
            try await Task.sleep(for: .milliseconds(400))
            // `membership(of:in:)` does not check deadlines: only the timer can have removed b.
            // Under a loaded machine (make test's parallel workers) the timer's task may run
            // late: wait for it, boundedly.
            var view = await groups.membership(of: a.memberID, in: "g")
            let deadline = ContinuousClock.now + .seconds(10)
            while view.generation < 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                view = await groups.membership(of: a.memberID, in: "g")
            }
            #expect(view.generation == 3)
            #expect(view.assignment.count == 4)
        }
    }

    @Test func silentConsumerIsRemovedAndItsPartitionsResumeFromItsLastCommit() async throws {
        try await withGroups { store, groups in
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 6))
            for p in topic.partitions {
                for chunk in 0..<10 { try await p.append((0..<10).map { Record(value: bytes("\(chunk)-\($0)")) }) }
            }
            var options = GroupConsumer.Options()
            options.sessionTimeout = .seconds(1)  // short, but not so short that a busy machine expires a live member
            options.maxRecordsPerBatch = 10
            let seenByA = Mutex<[TopicPartition: [Offset]]>([:])
            let seenByB = Mutex<[TopicPartition: [Offset]]>([:])
            @Sendable func everything() -> Bool {
                var all: Set<String> = []
                for seen in [seenByA.withLock { $0 }, seenByB.withLock { $0 }] {
                    for (tp, offsets) in seen { for o in offsets { all.insert("\(tp)@\(o)") } }
                }
                return all.count == 600
            }
            let a = try await GroupConsumer.join("g", topics: ["t"], coordinator: groups, options: options)
            let consumerA = Task {
                for try await batch in a.batches() {
                    seenByA.withLock { $0[batch.topicPartition, default: []] += batch.records.map(\.offset) }
                    if everything() { break }
                }
            }
            // b takes three batches, then goes silent without leaving.
            let b = try await GroupConsumer.join("g", topics: ["t"], coordinator: groups, options: options)
            var iterator = b.batches().makeAsyncIterator()
            var lastOfB: GroupConsumer.Batch?
            for _ in 0..<3 {
                let batch = try #require(try await iterator.next())
                seenByB.withLock { $0[batch.topicPartition, default: []] += batch.records.map(\.offset) }
                lastOfB = batch
            }
            try await consumerA.value
            let last = try #require(lastOfB)
            // Nothing skipped: every record was seen by a or b.
            let a_ = seenByA.withLock { $0 }, b_ = seenByB.withLock { $0 }
            for p in 0..<6 {
                let tp = TopicPartition("t", p)
                #expect(Set((a_[tp] ?? []) + (b_[tp] ?? [])) == Set((0..<100).map { Offset(Int64($0)) }))
            }
            // Redelivery starts at a commit: per partition, what a read again of b's records is
            // everything b saw from some offset on. b's last batch, never committed, is among
            // them. (Usually that batch is all; a commit b made while a rebalance was under way
            // is refused as stale, and then that batch comes again too, as in Kafka.)
            for (tp, offsets) in b_ {
                let again = offsets.filter { a_[tp]?.contains($0) == true }
                guard let first = again.min() else { continue }
                #expect(Set(again) == Set(offsets.filter { $0 >= first }), "partition \(tp): b saw \(offsets), a read again \(again)")
            }
            for record in last.records { #expect(a_[last.topicPartition]?.contains(record.offset) == true) }
            #expect(await groups.members(of: "g") == [a.membership.memberID])
            try await a.leave()
        }
    }

    @Test func commitsSurviveRestartAndCompactionOfTheOffsetsTopic() async throws {
        try await withTemporaryDirectory { dir in
            var options = GroupCoordinator.Options()
            options.offsetsSegmentBytes = 1024
            let expected: [TopicPartition: CommittedOffset] = [
                TopicPartition("t", 0): CommittedOffset(198, metadata: "host-a"),
                TopicPartition("t", 2): CommittedOffset(197),
            ]
            do {
                let store = try await openStore(dir) { $0.cleanerInterval = nil }  // only the pass below compacts
                _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 3))
                let groups = try await GroupCoordinator.open(store: store, options: options, logger: testLogger)
                for i in 0..<200 {
                    try await groups.commit([TopicPartition("t", i % 3): CommittedOffset(Offset(Int64(i)), metadata: i % 3 == 0 ? "host-a" : nil)], for: "g")
                }
                try await groups.commit([TopicPartition("t", 0): CommittedOffset(5)], for: "other")
                try await groups.deleteCommits([TopicPartition("t", 1)], for: "g")
                #expect(try await groups.committedOffsets(for: "g") == expected)
                #expect(store.topics().map(\.name) == ["t"], "the offsets topic is hidden")
                #expect(store.topic(named: GroupCoordinator.offsetsTopicName)?.configuration.isInternal == true)
                await groups.close()
                try await store.close()
            }
            do {
                let store = try await openStore(dir) { $0.cleanerInterval = nil }  // only the pass below compacts
                let groups = try await GroupCoordinator.open(store: store, options: options, logger: testLogger)
                #expect(try await groups.committedOffsets(for: "g") == expected, "replayed after a restart")
                let offsets = try #require(store.topic(named: GroupCoordinator.offsetsTopicName)).partitions[0]
                #expect(offsets.segmentCount > 1)
                let report = try await offsets.compact()
                #expect(report.recordsRemoved > 150)
                await groups.close()
                try await store.close()
            }
            let store = try await openStore(dir) { $0.cleanerInterval = nil }  // only the pass below compacts
            let groups = try await GroupCoordinator.open(store: store, options: options, logger: testLogger)
            #expect(try await groups.committedOffsets(for: "g") == expected, "replayed after compaction")
            #expect(try await groups.committedOffsets(for: "other") == [TopicPartition("t", 0): CommittedOffset(5)])
            await groups.close()
            try await store.close()
        }
    }

    @Test func resetToEarliestLatestOffsetAndTimestamp() async throws {
        try await withGroups { store, groups in
            let p = try await store.topic(named: "t", creatingWith: store.defaultTopicConfiguration).partitions[0]
            try await p.append((1...5).map { Record(value: bytes("\($0)"), timestamp: Int64($0) * 1000) })
            let tp = TopicPartition("t", 0)
            #expect(try await groups.reset(tp, for: "g", to: .timestamp(2500)) == 2)
            #expect(await groups.committedOffset(for: "g", tp) == CommittedOffset(2))
            #expect(try await groups.reset(tp, for: "g", to: .latest) == 5)
            #expect(try await groups.reset(tp, for: "g", to: .earliest) == 0)
            #expect(try await groups.reset(tp, for: "g", to: .offset(3), metadata: "replay") == 3)
            #expect(await groups.committedOffset(for: "g", tp) == CommittedOffset(3, metadata: "replay"))
            #expect(try await groups.reset(tp, for: "g", to: .timestamp(99_000)) == 5, "after the last record: the end")
        }
    }

    @Test func lagFigures() async throws {
        try await withGroups { store, groups in
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 2))
            let old = currentMilliseconds() - 5000
            try await topic.partitions[0].append((0..<5).map { Record(value: bytes("\($0)"), timestamp: old + Int64($0)) })
            try await topic.partitions[1].append([Record(value: bytes("x"))])
            await #expect(throws: LogError.self) { try await groups.lag(for: "g") }
            try await groups.commit([TopicPartition("t", 0): CommittedOffset(2), TopicPartition("t", 1): CommittedOffset(1)], for: "g")
            let lag = try await groups.lag(for: "g")
            #expect(lag.map(\.topicPartition) == [TopicPartition("t", 0), TopicPartition("t", 1)])
            #expect(lag[0].committed == 2 && lag[0].endOffset == 5 && lag[0].lag == 3)
            #expect((lag[0].oldestUnconsumedAge ?? .zero) >= .milliseconds(4990), "the record at offset 2 is about 5 s old")
            #expect(lag[1].lag == 0 && lag[1].oldestUnconsumedAge == nil)
        }
    }

    @Test func groupReadsAdvancePositionsButCommitNothing() async throws {
        try await withGroups { store, groups in
            let p = try await store.topic(named: "t", creatingWith: store.defaultTopicConfiguration).partitions[0]
            try await p.append((0..<6).map { Record(value: bytes("\($0)")) })
            try await groups.commit([TopicPartition("t", 0): CommittedOffset(2)], for: "g")
            let m = try await groups.join("g", topics: ["t"], sessionTimeout: .seconds(10))
            let first = try await groups.fetch("g", member: m.memberID, maxRecords: 2)
            #expect(first.records.map(\.record.offset) == [2, 3])
            let second = try await groups.fetch("g", member: m.memberID, maxRecords: 10)
            #expect(second.records.map(\.record.offset) == [4, 5])
            #expect(second.positions == [PartitionPosition(topicPartition: TopicPartition("t", 0), nextOffset: 6)])
            #expect(await groups.committedOffset(for: "g", TopicPartition("t", 0)) == CommittedOffset(2))
            // A second member makes the group rebalance: reads are refused until both acknowledge.
            let n = try await groups.join("g", topics: ["t"], sessionTimeout: .seconds(10))
            do {
                _ = try await groups.fetch("g", member: n.memberID, maxRecords: 10)
                Issue.record("expected rebalanceInProgress")
            } catch LogError.Code.rebalanceInProgress {}
            _ = try await settle(groups, "g", [m.memberID, n.memberID])
            // After the rebalance, positions restart from the commit.
            let owner = try await groups.heartbeat("g", member: m.memberID).assignment.isEmpty ? n.memberID : m.memberID
            let again = try await groups.fetch("g", member: owner, maxRecords: 10)
            #expect(again.records.map(\.record.offset) == [2, 3, 4, 5])
        }
    }

    @Test func atMostOnceCommitsBeforeDelivery() async throws {
        try await withGroups { store, groups in
            let p = try await store.topic(named: "t", creatingWith: store.defaultTopicConfiguration).partitions[0]
            try await p.append((0..<3).map { Record(value: bytes("\($0)")) })
            var options = GroupConsumer.Options()
            options.delivery = .atMostOnce
            let consumer = try await GroupConsumer.join("g", topics: ["t"], coordinator: groups, options: options)
            var iterator = consumer.batches().makeAsyncIterator()
            let batch = try #require(try await iterator.next())
            #expect(batch.records.count == 3)
            #expect(await groups.committedOffset(for: "g", TopicPartition("t", 0))?.offset == 3, "committed before processing")
            try await consumer.leave()
        }
    }
}
