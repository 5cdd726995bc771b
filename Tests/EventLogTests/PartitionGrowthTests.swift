import Foundation
import TestSupport
import Testing
@testable import EventLog

/// `LogStore.alterTopic(named:_:)` growing a topic's partition count: the new partitions take
/// appends at once, keep them across a restart, show up in open tails, and a power cut at any
/// step leaves the old count or the new one, never a topic that does not open.
@Suite struct PartitionGrowthTests {
    @Test func newPartitionsTakeAppendsAndSurviveARestartAndShrinkingIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            let topic = try await store.createTopic(named: "g", configuration: TopicConfiguration(partitions: 2, durability: .none))
            let first = topic.partitions[0]
            try await first.append(Record(value: bytes("p0")))
            try await topic.partitions[1].append(Record(value: bytes("p1")))

            let grown = try await store.alterTopic(named: "g") { $0.partitions = 4 }
            #expect(grown === topic)
            #expect(topic.partitions.count == 4 && topic.configuration.partitions == 4)
            #expect(topic.partitions[0] === first, "the old partitions stay as they are")
            #expect(try store.partition(TopicPartition("g", 3)).index == 3)
            for p in 2..<4 {
                #expect(topic.partitions[p].endOffset == 0)
                try await topic.partitions[p].append(Record(value: bytes("p\(p)")))
            }
            do {
                try await store.alterTopic(named: "g") { $0.partitions = 3 }
                Issue.record("a topic shrank")
            } catch let error as LogError {
                #expect(error.code == .fixedSetting && error.message.contains("cannot have fewer"), "\(error)")
            }
            #expect(topic.partitions.count == 4)
            try await store.close()

            let reopened = try await openStore(dir, configure: noBackgroundCleaner)
            let again = try #require(reopened.topic(named: "g"))
            #expect(again.partitions.count == 4 && again.configuration.partitions == 4)
            #expect(again.createdPartitionCount == 2, "the count it was created with is kept, for cursors taken before")
            for p in 0..<4 { #expect(try await readAll(again.partitions[p]).map { text($0.value) } == ["p\(p)"]) }
            try await reopened.close()
        }
    }

    /// A tail of the topic from before the growth (its position covers 1 partition) is woken
    /// by the growth and delivers what the new partition gets, without waiting for its timeout.
    @Test(.timeLimit(.minutes(1))) func anOpenTailPicksUpTheNewPartitions() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            let topic = try await store.createTopic(named: "live", configuration: TopicConfiguration(partitions: 1, durability: .none))
            try await topic.partitions[0].append(Record(value: bytes("before")))
            var tail = try TopicTail(topic: topic, from: try await topic.position(for: .earliest))
            let firstStep = try #require(try await tail.read(maxRecords: 100, maxBytes: 1 << 20))
            #expect(firstStep.items.map(\.partition) == [0])
            let waiting = Task { [tail] in
                let clock = ContinuousClock()
                let started = clock.now
                let woke = await tail.waitForRecords(timeout: .seconds(30))
                return (woke, clock.now - started)
            }
            try await Task.sleep(for: .milliseconds(100))
            try await store.alterTopic(named: "live") { $0.partitions = 2 }
            let (woke, waited) = await waiting.value
            #expect(woke && waited < .seconds(10), "the growth woke the tail (\(waited))")

            try await topic.partitions[1].append(Record(value: bytes("new partition")))
            let step = try #require(try await tail.read(maxRecords: 100, maxBytes: 1 << 20))
            #expect(step.items.map(\.partition) == [1])
            #expect(step.items.map { text($0.content.value) } == ["new partition"])
            #expect(tail.position == TopicPosition(nextOffsets: [Offset(1), Offset(1)]))

            // Records of a whole topic: a position taken before the growth reads the new partition from its start.
            var seen: [String] = []
            for try await event in topic.records(from: TopicPosition(nextOffsets: [Offset(1)])) {
                if case .record(let record) = event { seen.append(text(record.record.value) ?? "") }
                if seen.count == 1 { break }
            }
            #expect(seen == ["new partition"])
            try await store.close()
        }
    }

    /// A failed step (the new partitions' directory sync, or the write of `topic.conf`) leaves
    /// the old count in memory and on disk, and no partition directory beyond it.
    @Test(arguments: ["/topics/f", "topic.conf.tmp"])
    func aFailedGrowthKeepsTheOldCount(failing path: String) async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults) { $0.cleanerInterval = nil; $0.flushInterval = .seconds(3600) }
            let topic = try await store.createTopic(named: "f", configuration: TopicConfiguration(partitions: 2))
            faults.fail(path.hasSuffix(".tmp") ? .fdatasync : .fsyncDirectory, errno: EIO, pathSuffix: path)
            do {
                try await store.alterTopic(named: "f") { $0.partitions = 3 }
                Issue.record("the growth succeeded")
            } catch LogError.Code.ioError {}
            faults.clear()
            #expect(topic.partitions.count == 2 && topic.configuration.partitions == 2)
            #expect(!FileManager.default.fileExists(atPath: dir + "/topics/f/2"))
            try await store.close()
            let reopened = try await openStore(dir)
            #expect(reopened.topic(named: "f")?.partitions.count == 2)
            try await reopened.alterTopic(named: "f") { $0.partitions = 3 }
            #expect(reopened.topic(named: "f")?.partitions.count == 3)
            try await reopened.close()
        }
    }

    /// A power cut at any point of a growth leaves the old count or the new one, a topic that
    /// opens, appends to every partition and keeps its records; once `alterTopic` returned,
    /// the new count.
    @Test func aPowerCutDuringAGrowthLeavesTheOldOrTheNewCount() async throws {
        try await withTemporaryDirectory { base in
            try await PowerCutModel.forEachCut(in: base, setUp: { store in
                let topic = try await store.createTopic(named: "pc", configuration: TopicConfiguration(partitions: 2, durability: .fsync))
                try await topic.partitions[1].append(Record(value: bytes("kept")))
            }, operation: { store in
                try await store.alterTopic(named: "pc") { $0.partitions = 5 }
            }) { model, cut, isLast in
                for extraWrites in [0, 2] {
                    let image = base + "/cut-\(cut)-\(extraWrites)"
                    try model.materialize(at: image, extraWrites: extraWrites)
                    defer { try? FileManager.default.removeItem(atPath: image) }
                    let recovered = try await openStore(image)
                    let found = try #require(recovered.topic(named: "pc"), "cut \(cut)")
                    let count = found.partitions.count
                    #expect(count == 2 || count == 5, "cut \(cut)+\(extraWrites): \(count) partitions")
                    #expect(found.configuration.partitions == count)
                    if isLast { #expect(count == 5, "once alterTopic returned, the new count is durable") }
                    #expect(try await readAll(found.partitions[1]).map { text($0.value) } == ["kept"])
                    for p in found.partitions { try await p.append(Record(value: bytes("after"))) }
                    if extraWrites == 0 {
                        // Growing again from what the cut left works too (leftover directories included).
                        try await recovered.alterTopic(named: "pc") { $0.partitions = 6 }
                        #expect(try await readAll(found.partitions[5]).isEmpty)
                    }
                    try await recovered.close()
                }
            }
        }
    }
}
