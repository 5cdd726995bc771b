import Foundation
import Synchronization
import TestSupport
import Testing
@testable import EventLog

/// `LogStore.alterTopic(named:_:)`: what changes, when it takes effect, what survives a
/// restart or a power cut, and what is refused.
@Suite struct AlterTopicTests {
    /// Old records (10 s old by their timestamps) in closed 2 KiB segments, then one fresh record.
    func fillWithOldRecords(_ p: Partition, count: Int = 100) async throws {
        let old = FileSystem.nowMilliseconds() - 10_000
        for i in 0..<count {
            try await p.append([Record(value: bytes("old \(i) " + String(repeating: "o", count: 100)), timestamp: old)])
        }
        try await p.append([Record(value: bytes("fresh"))])
    }

    @Test func aLoweredRetentionAppliesAtTheNextPassAndSurvivesARestart() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            var config = TopicConfiguration(durability: .none, segmentBytes: 2048)
            config.indexIntervalBytes = 256
            let topic = try await store.createTopic(named: "t", configuration: config)
            let p = topic.partitions[0]
            try await fillWithOldRecords(p)
            #expect(try await p.applyRetention().segmentsDeleted == 0, "no retention yet: everything stays")

            let altered = try await store.alterTopic(named: "t") { $0.retention = .seconds(1) }
            #expect(altered === topic && topic.configuration.retention == .seconds(1))
            let report = try await p.applyRetention()
            #expect(report.segmentsDeleted > 0 && p.segmentCount == 1 && p.startOffset > 0)
            let left = try await readAll(p)
            #expect(left.last.map { text($0.value) } == "fresh" && left.count < 101)

            // By size too, from the next pass.
            try await store.alterTopic(named: "t") { $0.retention = nil; $0.retentionBytes = 4096 }
            for i in 0..<60 { try await p.append([Record(value: bytes("new \(i) " + String(repeating: "n", count: 100)))]) }
            #expect(try await p.applyRetention().segmentsDeleted > 0)
            #expect(p.sizeInBytes < 4096 + 2 * 2048)
            try await store.close()

            let reopened = try await openStore(dir, configure: noBackgroundCleaner)
            let again = try #require(reopened.topic(named: "t")).configuration
            #expect(again.retention == nil && again.retentionBytes == 4096)
            #expect(again.segmentBytes == 2048 && again.indexIntervalBytes == 256 && again.durability == .none)
            try await reopened.close()
        }
    }

    /// The writer reads the durability at each append: `fsync` acknowledges after a sync
    /// (counted in `statistics.syncs`), `none` without one; the switch back to `fsync` first
    /// syncs what `none` left unsynced.
    @Test func theNextAppendUsesTheNewDurability() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) { $0.cleanerInterval = nil; $0.flushInterval = .seconds(3600) }
            let p = try await store.createTopic(named: "d", configuration: TopicConfiguration(durability: .fsync)).partitions[0]
            try await p.append(Record(value: bytes("synced")))
            let syncsAtFsync = p.statistics.syncs
            #expect(syncsAtFsync >= 1)

            try await store.alterTopic(named: "d") { $0.durability = .none }
            for i in 0..<10 { try await p.append(Record(value: bytes("unsynced \(i)"))) }
            #expect(p.statistics.syncs == syncsAtFsync, "none: no sync per append")
            #expect(p.state.withLock { $0.dirty }, "written, not synced")

            try await store.alterTopic(named: "d") { $0.durability = .fsync }
            #expect(!p.state.withLock { $0.dirty }, "the switch to fsync synced what was acknowledged before")
            #expect(p.state.withLock { $0.durable.nextOffset } == 11)
            try await p.append(Record(value: bytes("synced again")))
            #expect(p.statistics.syncs > syncsAtFsync)

            try await store.alterTopic(named: "d") { $0.durability = .interval(.milliseconds(250)) }
            #expect(store.topic(named: "d")?.configuration.durability == .interval(.milliseconds(250)))
            #expect(p.configuration.durability == .interval(.milliseconds(250)))
            try await store.close()
            let reopened = try await openStore(dir)
            #expect(reopened.topic(named: "d")?.configuration.durability == .interval(.milliseconds(250)))
            #expect(try await readAll(reopened.topic(named: "d")!.partitions[0]).count == 12)
            try await reopened.close()
        }
    }

    /// An append that starts after a change to `fsync` returned is acknowledged only once it is
    /// on stable storage, also when an appending task that started under `none` is still
    /// writing other appenders' batches inline (it hands them to the I/O threads).
    final class SwitchWatch: Sendable {
        let switched = Atomic<Bool>(false)
        let checked = Atomic<Int>(0)
        let unsynced = Atomic<Int>(0)
    }

    @Test(.timeLimit(.minutes(1))) func appendsAfterAChangeToFsyncAreSyncedEvenWithAnInlineWriterRunning() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) { $0.cleanerInterval = nil; $0.flushInterval = .seconds(3600) }
            let p = try await store.createTopic(named: "race", configuration: TopicConfiguration(durability: .none)).partitions[0]
            var checked = 0, unsynced = 0
            for round in 0..<20 {
                try await store.alterTopic(named: "race") { $0.durability = .none }
                let watch = SwitchWatch()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for w in 0..<8 {
                        group.addTask {
                            for i in 0..<200 {
                                let afterSwitch = watch.switched.load(ordering: .acquiring)
                                let range = try await p.append([Record(value: bytes("r\(round)-w\(w)-\(i)"))])
                                guard afterSwitch else { continue }
                                watch.checked.add(1, ordering: .relaxed)
                                if p.state.withLock({ $0.durable.nextOffset }) < range.end.rawValue {
                                    watch.unsynced.add(1, ordering: .relaxed)
                                }
                                if i > 150 { return }
                            }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(2))
                    try await store.alterTopic(named: "race") { $0.durability = .fsync }
                    watch.switched.store(true, ordering: .releasing)
                    try await group.waitForAll()
                }
                checked += watch.checked.load(ordering: .relaxed)
                unsynced += watch.unsynced.load(ordering: .relaxed)
            }
            #expect(checked > 0)
            #expect(unsynced == 0, "\(unsynced) of \(checked) appends acknowledged under fsync without a sync")
            try await store.close()
        }
    }

    /// Compaction turned on compacts; turned off again, the gaps it left between offsets stay
    /// readable, also after a restart (reads check offsets for density only on topics that
    /// were never compacted).
    @Test func compactionTurnedOnCompactsAndItsGapsStayReadableAfterItIsTurnedOff() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            var config = TopicConfiguration(durability: .none, segmentBytes: 2048)
            config.indexIntervalBytes = 256
            let p = try await store.createTopic(named: "kv", configuration: config).partitions[0]
            for round in 0..<40 { try await p.append((0..<10).map { Record(key: "key-\($0)", value: bytes("r\(round)-\($0)")) }) }
            await #expect(throws: LogError.self) { try await p.compact() }

            try await store.alterTopic(named: "kv") { $0.cleanupPolicy = .compact }
            let report = try await p.compact(limits: CompactionLimits(bytesPerSecond: nil))
            #expect(report.recordsRemoved > 0)
            let compacted = try await readAll(p)
            #expect(compacted.count < 400)

            try await store.alterTopic(named: "kv") { $0.cleanupPolicy = .delete }
            #expect(try await readAll(p).map(\.offset) == compacted.map(\.offset))
            try await store.close()
            let reopened = try await openStore(dir, configure: noBackgroundCleaner)
            let again = try #require(reopened.topic(named: "kv"))
            #expect(again.configuration.cleanupPolicy == .delete)
            #expect(try await readAll(again.partitions[0]).map(\.offset) == compacted.map(\.offset))
            try await reopened.close()
        }
    }

    @Test func fixedSettingsInternalTopicsAndBadValuesAreRefusedAndNothingChanges() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir, configure: noBackgroundCleaner)
            let created = TopicConfiguration(partitions: 3, compression: .zstd, durability: .fsync, retentionBytes: 1 << 20)
            let topic = try await store.createTopic(named: "fixed", configuration: created)
            let file = dir + "/topics/fixed/topic.conf"
            let fileBefore = try Data(contentsOf: URL(fileURLWithPath: file))

            func refused(_ code: LogError.Code, _ words: String, _ change: (inout TopicConfiguration) -> Void) async {
                do {
                    try await store.alterTopic(named: "fixed", change)
                    Issue.record("expected \(code)")
                } catch let error as LogError {
                    #expect(error.code == code, "\(error)")
                    #expect(error.message.contains(words), "\(error.message)")
                } catch {
                    Issue.record("unexpected \(error)")
                }
            }
            await refused(.fixedSetting, "cannot have fewer") { $0.partitions = 2 }
            await refused(.fixedSetting, "compression cannot change") { $0.compression = .lz4 }
            await refused(.fixedSetting, "segment_bytes cannot change") { $0.segmentBytes = 4096 }
            await refused(.fixedSetting, "max_batch_bytes cannot change") { $0.maxBatchBytes = 1024 }
            await refused(.invalidArgument, "retention_bytes") { $0.retentionBytes = -5 }
            await refused(.invalidArgument, "durability interval") { $0.durability = .interval(.microseconds(10)) }
            await refused(.invalidArgument, "cleanup_policy") { $0.cleanupPolicy = [] }
            #expect(topic.configuration == created)
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == fileBefore)

            await #expect(throws: LogError.self) { try await store.alterTopic(named: "missing") { $0.retention = nil } }
            var internalConfiguration = TopicConfiguration(cleanupPolicy: .compact)
            internalConfiguration.isInternal = true
            try await store.createTopic(named: "__internal", configuration: internalConfiguration)
            do {
                try await store.alterTopic(named: "__internal") { $0.cleanupPolicy = .delete }
                Issue.record("an internal topic was altered")
            } catch LogError.Code.internalTopic {}
            #expect(store.topic(named: "__internal")?.configuration.cleanupPolicy == .compact)

            // A change that changes nothing writes nothing.
            let modified = try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date
            try await store.alterTopic(named: "fixed") { $0.retentionBytes = 1 << 20 }
            #expect(try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date == modified)
            try await store.close()
        }
    }

    /// A failed write of `topic.conf` (its sync, or its directory's after the rename) leaves
    /// the old settings in memory and on disk.
    @Test(arguments: [FaultInjector.Call.fdatasync, .fsyncDirectory])
    func aFailedWriteKeepsTheOldSettings(call: FaultInjector.Call) async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults) { $0.cleanerInterval = nil; $0.flushInterval = .seconds(3600) }
            let created = TopicConfiguration(durability: .fsync, retention: .seconds(3600))
            let topic = try await store.createTopic(named: "f", configuration: created)
            faults.fail(call, errno: EIO, pathSuffix: call == .fdatasync ? "topic.conf.tmp" : "/topics/f")
            do {
                try await store.alterTopic(named: "f") { $0.retention = .seconds(1); $0.durability = .none }
                Issue.record("the alter succeeded")
            } catch LogError.Code.ioError {}
            faults.clear()
            #expect(topic.configuration == created)
            #expect(topic.partitions[0].configuration.durability == .fsync)
            try await store.close()
            let reopened = try await openStore(dir)
            #expect(reopened.topic(named: "f")?.configuration == created)
            try await reopened.close()
        }
    }

    /// An alter waits for a delete of the same name under way, then finds no topic.
    @Test func anAlterWaitsForADeleteOfTheSameName() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.createTopic(named: "t", configuration: TopicConfiguration()).partitions[0]
            // The delete waits for the writer role held here.
            p.state.withLock { $0.writerScheduled = true }
            let deletion = Task { try await store.deleteTopic(named: "t") }
            while !p.state.withLock({ $0.closed }) { await Task.yield() }
            let alteration = Task { try await store.alterTopic(named: "t") { $0.retention = .seconds(5) } }
            try await Task.sleep(for: .milliseconds(50))
            p.drain()
            try await deletion.value
            let result = await alteration.result
            #expect(throws: LogError.self) { try result.get() }
            #expect(!FileManager.default.fileExists(atPath: dir + "/topics/t"), "the alter wrote nothing where the topic was")
            try await store.close()
        }
    }

    /// A power cut at any point of an alter leaves the old settings or the new ones, never a
    /// mix or a damaged file; once `alterTopic` returned, the new ones.
    @Test func aPowerCutDuringAnAlterLeavesTheOldOrTheNewSettings() async throws {
        try await withTemporaryDirectory { base in
            var old = TopicConfiguration(partitions: 2, durability: .none, retentionBytes: 1 << 20, segmentBytes: 4096)
            old.indexIntervalBytes = 512
            var new: TopicConfiguration?
            try await PowerCutModel.forEachCut(in: base, setUp: { store in
                let topic = try await store.createTopic(named: "pc", configuration: old)
                try await topic.partitions[0].append(Record(value: bytes("kept")))
                try await store.alterTopic(named: "pc") { _ in }  // nothing to change: nothing written
            }, operation: { store in
                new = try await store.alterTopic(named: "pc") {
                    $0.durability = .fsync
                    $0.cleanupPolicy = [.compact, .delete]
                    $0.retention = .seconds(60)
                    $0.retentionBytes = -1
                }.configuration
            }) { model, cut, isLast in
                for extraWrites in [0, 1, 3] {
                    let image = base + "/cut-\(cut)-\(extraWrites)"
                    try model.materialize(at: image, extraWrites: extraWrites)
                    defer { try? FileManager.default.removeItem(atPath: image) }
                    let recovered = try await openStore(image)
                    let found = try #require(recovered.topic(named: "pc")?.configuration, "cut \(cut)")
                    #expect(found == old || found == new, "cut \(cut)+\(extraWrites): \(found)")
                    if isLast { #expect(found == new, "once alterTopic returned, the new settings are durable") }
                    #expect(try await readAll(recovered.topic(named: "pc")!.partitions[0]).count <= 1)
                    try await recovered.close()
                }
            }
        }
    }
}
