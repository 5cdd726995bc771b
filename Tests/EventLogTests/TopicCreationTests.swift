import Foundation
import TestSupport
import Testing
@testable import EventLog

/// Creating topics: many partitions cost one directory sync each (issued together), a crash
/// or power cut at any step leaves no topic or the whole one, and ``LogStore/Options/maxPartitions``
/// bounds what creations and growths may add.
@Suite(.timeLimit(.minutes(2))) struct TopicCreationTests {
    /// The syncs a creation costs: one of each partition's directory, then a few for the
    /// topic's directory and `topic.conf` (before: a sync of the topic's directory after each
    /// partition's `mkdir`, of the partition's directory, and an atomic write of its recovery
    /// checkpoint, four or more per partition, one after the other).
    @Test(arguments: [false, true])
    func manyPartitionsCostOneSyncEach(growing: Bool) async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults) { $0.cleanerInterval = nil; $0.flushInterval = .seconds(3600) }
            let n = 200
            if growing { try await store.createTopic(named: "many", configuration: TopicConfiguration(partitions: 1)) }
            faults.startRecording()
            if growing {
                try await store.alterTopic(named: "many") { $0.partitions = n + 1 }
            } else {
                try await store.createTopic(named: "many", configuration: TopicConfiguration(partitions: n))
            }
            let syncs = faults.recordedCalls.filter { $0.call == .fsyncDirectory || $0.call == .fdatasync }
            #expect(syncs.count <= n + 6, "\(syncs.count) syncs for \(n) partitions")
            let topic = try #require(store.topic(named: "many"))
            #expect(topic.partitions.count == (growing ? n + 1 : n))
            try await topic.partitions[n - 1].append(Record(value: Array("last".utf8)))
            try await store.close()

            let reopened = try await openStore(dir)
            let again = try #require(reopened.topic(named: "many"))
            #expect(again.partitions.count == (growing ? n + 1 : n))
            #expect(try await readAll(again.partitions[n - 1]).map { text($0.value) } == ["last"])
            try await reopened.close()
        }
    }

    /// A power cut, or the death of the process, at every step of a creation leaves no topic
    /// (and no directory of it after the next open) or the whole topic, whose every partition
    /// takes appends; once `createTopic` returned, the whole topic.
    @Test func aPowerCutOrACrashDuringACreationLeavesNoTopicOrAllOfIt() async throws {
        try await withTemporaryDirectory { base in
            try await PowerCutModel.forEachCut(in: base, operation: { store in
                try await store.createTopic(named: "pc", configuration: TopicConfiguration(partitions: 3, durability: .fsync))
            }) { model, cut, isLast in
                for (name, processCrash, extraWrites) in [("power", false, 0), ("power+2", false, 2), ("crash", true, 0)] {
                    let image = base + "/cut-\(cut)-\(name)"
                    try model.materialize(at: image, extraWrites: extraWrites, processCrash: processCrash)
                    defer { try? FileManager.default.removeItem(atPath: image) }
                    let recovered = try await openStore(image)
                    if let found = recovered.topic(named: "pc") {
                        #expect(found.partitions.count == 3, "cut \(cut) \(name)")
                        for p in found.partitions { try await p.append(Record(value: Array("after".utf8))) }
                    } else {
                        #expect(!isLast, "cut \(cut) \(name): once createTopic returned, the topic is durable")
                        #expect(!FileManager.default.fileExists(atPath: image + "/topics/pc"), "cut \(cut) \(name): a half-made topic was left")
                        let made = try await recovered.createTopic(named: "pc", configuration: TopicConfiguration(partitions: 3))
                        for p in made.partitions { try await p.append(Record(value: Array("after".utf8))) }
                    }
                    try await recovered.close()
                    let again = try await openStore(image)
                    let topic = try #require(again.topic(named: "pc"))
                    for p in topic.partitions { #expect(try await readAll(p).count == 1, "cut \(cut) \(name)") }
                    try await again.close()
                }
            }
        }
    }

    /// A topic directory without `topic.conf` is removed at open only when it holds no record
    /// (what a creation interrupted before its commit point leaves); one whose records are there
    /// lost its file some other way and is kept, records and all.
    @Test func aTopicWithRecordsButNoTopicConfIsKept() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "kept", configuration: TopicConfiguration(partitions: 2))
            try await topic.partitions[1].append(Record(value: Array("precious".utf8)))
            try await store.createTopic(named: "empty", configuration: TopicConfiguration(partitions: 2))
            try await store.close()
            try FileManager.default.removeItem(atPath: dir + "/topics/kept/topic.conf")
            try FileManager.default.removeItem(atPath: dir + "/topics/empty/topic.conf")

            let reopened = try await openStore(dir)
            #expect(reopened.topic(named: "kept") == nil)
            #expect(FileManager.default.fileExists(atPath: dir + "/topics/kept/1"), "a topic with records was removed")
            #expect(!FileManager.default.fileExists(atPath: dir + "/topics/empty"))
            try await reopened.close()
        }
    }

    /// ``LogStore/Options/maxPartitions``: a creation or a growth past it fails with
    /// ``LogError/Code/partitionLimitReached``, names the numbers, and leaves nothing (no
    /// topic, no directory, the old count); a deletion makes room again; internal topics are
    /// neither counted nor refused.
    @Test func thePartitionLimitRefusesCreationsAndGrowthsAndLeavesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) { $0.cleanerInterval = nil; $0.maxPartitions = 10 }
            var internalConfiguration = TopicConfiguration(partitions: 5)
            internalConfiguration.isInternal = true
            try await store.createTopic(named: "__internal", configuration: internalConfiguration)
            let a = try await store.createTopic(named: "a", configuration: TopicConfiguration(partitions: 6))
            do {
                try await store.createTopic(named: "b", configuration: TopicConfiguration(partitions: 5))
                Issue.record("a creation passed the limit")
            } catch let error as LogError {
                #expect(error.code == .partitionLimitReached)
                #expect(error.message == "topic b was not created with 5 partitions: the store holds 6 partitions, and 5 more would pass the 10 allowed.")
            }
            #expect(store.topic(named: "b") == nil)
            #expect(!FileManager.default.fileExists(atPath: dir + "/topics/b"))
            await #expect(throws: LogError.self) {
                _ = try await store.topic(named: "c", creatingWith: TopicConfiguration(partitions: 5))
            }
            do {
                try await store.alterTopic(named: "a") { $0.partitions = 11 }
                Issue.record("a growth passed the limit")
            } catch let error as LogError {
                #expect(error.code == .partitionLimitReached)
                #expect(error.message == "topic a did not grow from 6 to 11 partitions: the store holds 6 partitions, and 5 more would pass the 10 allowed.")
            }
            #expect(a.partitions.count == 6 && a.configuration.partitions == 6)
            #expect(!FileManager.default.fileExists(atPath: dir + "/topics/a/6"))

            try await store.createTopic(named: "b", configuration: TopicConfiguration(partitions: 4))
            try await store.deleteTopic(named: "b")
            try await store.alterTopic(named: "a") { $0.partitions = 10 }
            #expect(a.partitions.count == 10)
            try await store.close()
        }
    }

    /// Creations under way count: of several racing creations that together pass the limit,
    /// only those that fit are made.
    @Test func racingCreationsNeverPassTheLimit() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) { $0.cleanerInterval = nil; $0.maxPartitions = 10 }
            let made = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<5 {
                    group.addTask { (try? await store.createTopic(named: "t\(i)", configuration: TopicConfiguration(partitions: 4))) != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(made == 2)
            #expect(store.topics().reduce(0) { $0 + $1.partitions.count } == 8)
            try await store.close()
        }
    }
}
