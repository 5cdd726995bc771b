import Foundation
import Synchronization
import TestSupport
import Testing
@testable import EventLog

@Suite struct ConcurrencyTests {
    /// `writers` tasks append `perWriter` batches each, at once; batch `n` (writer `n / perWriter`)
    /// is `batch(n)`. Returns every batch's number and offsets.
    func appendConcurrently(to p: Partition, writers: Int, perWriter: Int,
                            batch: @escaping @Sendable (Int) -> [Record]) async throws -> [(Int, OffsetRange)] {
        try await withThrowingTaskGroup(of: [(Int, OffsetRange)].self) { group in
            for w in 0..<writers {
                group.addTask {
                    var out: [(Int, OffsetRange)] = []
                    for i in 0..<perWriter {
                        let n = w * perWriter + i
                        out.append((n, try await p.append(batch(n))))
                    }
                    return out
                }
            }
            var all: [(Int, OffsetRange)] = []
            for try await part in group { all += part }
            return all
        }
    }

    @Test(arguments: [Durability.fsync, .none])
    func manyAppendersGetDenseUniqueOffsetsAndTailersSeeEverythingInOrder(durability: Durability) async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.createTopic(named: "c", configuration: TopicConfiguration(durability: durability)).partitions[0]
            let writers = 16, perWriter = 60
            let total = writers * perWriter
            // Tailers start before anything is written and must see every record, in order.
            let tailers = (0..<4).map { _ in
                Task { () -> [StoredRecord] in
                    var seen: [StoredRecord] = []
                    for try await r in p.records(from: .earliest) {
                        seen.append(r)
                        if seen.count == total { break }
                    }
                    return seen
                }
            }
            let ranges = try await appendConcurrently(to: p, writers: writers, perWriter: perWriter) { n in
                (0..<(n % 3 + 1)).map { _ in Record(key: "w\(n / perWriter)", value: bytes("\(n)")) }
            }
            let records = ranges.reduce(0) { $0 + $1.1.count }
            let covered = ranges.flatMap { Array($0.1.first.rawValue..<$0.1.end.rawValue) }.sorted()
            #expect(covered == Array(0..<Int64(records)))
            let stored = try await readAll(p)
            for (n, range) in ranges {
                for o in range.first.rawValue..<range.end.rawValue { #expect(text(stored[Int(o)].value) == "\(n)") }
            }
            // Per writer, order is kept.
            for w in 0..<writers {
                let mine = ranges.filter { $0.0 / perWriter == w }.sorted { $0.0 < $1.0 }
                #expect(zip(mine, mine.dropFirst()).allSatisfy { $0.1.first < $1.1.first })
            }
            let _ = total
            try await store.close()
            for t in tailers { t.cancel() }
        }
    }

    @Test func tailWakesOnAppendWithoutPolling() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "wake", creatingWith: store.defaultTopicConfiguration).partitions[0]
            let got = Task { () -> [String] in
                var out: [String] = []
                for try await r in p.records(from: .latest) {
                    out.append(text(r.value)!)
                    if out.count == 3 { break }
                }
                return out
            }
            // Wait until the tail is parked on the partition's waiter list.
            while p.waiterCount == 0 { await Task.yield() }
            for v in ["a", "b", "c"] { try await p.append([Record(value: bytes(v))]) }
            #expect(try await got.value == ["a", "b", "c"])
            #expect(p.waiterCount == 0)
            try await store.close()
        }
    }

    @Test func waitTimesOutAndCancellationEndsTheTail() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "idle", creatingWith: store.defaultTopicConfiguration).partitions[0]
            let start = ContinuousClock.now
            #expect(await p.waitForRecords(at: 0, timeout: .milliseconds(150)) == false)
            #expect(ContinuousClock.now - start >= .milliseconds(140))
            #expect(p.waiterCount == 0)
            let tail = Task { () -> Int in
                var n = 0
                for try await _ in p.records(from: .earliest) { n += 1 }
                return n
            }
            while p.waiterCount == 0 { await Task.yield() }
            tail.cancel()
            #expect(try await tail.value == 0)
            #expect(p.waiterCount == 0)
            // Multi-partition wait: woken by whichever partition gets data.
            let topic = try await store.createTopic(named: "multi", configuration: TopicConfiguration(partitions: 3))
            let waiter = Task { await Partition.waitForRecords(topic.partitions.map { ($0, Offset(0)) }, timeout: .seconds(30)) }
            while topic.partitions.allSatisfy({ $0.waiterCount == 0 }) { await Task.yield() }
            try await topic.partitions[2].append([Record(value: bytes("x"))])
            #expect(await waiter.value == true)
            try await store.close()
        }
    }

    /// With `none` durability appenders write inline when the writer is idle and queue when
    /// it is busy; rolls go to the I/O threads. Offsets stay dense and every record survives
    /// a reopen, across many small segments.
    @Test func inlineAndQueuedAppendsInterleaveAcrossRolls() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let config = TopicConfiguration(durability: .none, segmentBytes: 4096)
            let p = try await store.createTopic(named: "inline", configuration: config).partitions[0]
            let writers = 8, perWriter = 150
            let ranges = try await appendConcurrently(to: p, writers: writers, perWriter: perWriter) { n in
                (0..<(n % 4 + 1)).map { _ in Record(value: bytes("\(n)")) }
            }
            let total = ranges.reduce(0) { $0 + $1.1.count }
            let covered = ranges.flatMap { Array($0.1.first.rawValue..<$0.1.end.rawValue) }.sorted()
            #expect(covered == Array(0..<Int64(total)))
            #expect(p.segmentCount > 10)
            try await store.close()

            let again = try await openStore(dir)
            let reopened = again.topic(named: "inline")!.partitions[0]
            let stored = try await readAll(reopened)
            #expect(stored.count == total)
            for (n, range) in ranges {
                for o in range.first.rawValue..<range.end.rawValue { #expect(text(stored[Int(o)].value) == "\(n)") }
            }
            try await again.close()
        }
    }

    /// Past `Partition.writebackBytes` under `none` the writer starts writeback as it goes;
    /// everything stays readable, and a crash copy (no sync at all) recovers it whole.
    @Test func writebackAsTheWriterGoesLosesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.createTopic(named: "wb", configuration: TopicConfiguration(durability: .none)).partitions[0]
            let value = [UInt8](repeating: 0x5a, count: 64 << 10)
            let batches = Int(3 * Partition.writebackBytes) / (16 * value.count) + 1
            for b in 0..<batches {
                try await p.append((0..<16).map { i in Record(key: "\(b)-\(i)", value: value) })
            }
            #expect(p.sizeInBytes > 3 * Partition.writebackBytes)
            let crashed = try crashCopy(of: dir)
            defer { try? FileManager.default.removeItem(atPath: crashed) }
            try await store.close()
            let again = try await openStore(crashed)
            let q = again.topic(named: "wb")!.partitions[0]
            #expect(q.endOffset == Offset(Int64(batches * 16)))
            let last = try await q.read(from: Offset(Int64(batches * 16 - 1)), maxRecords: 1)
            #expect(last.records.first?.key == "\(batches - 1)-15")
            try await again.close()
        }
    }

    @Test(arguments: [Durability.fsync, .none])
    func closeFinishesQueuedAppendsAndEndsTails(durability: Durability) async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.createTopic(named: "close", configuration: TopicConfiguration(durability: durability)).partitions[0]
            let tail = Task { () -> Int in
                var n = 0
                for try await _ in p.records(from: .earliest) { n += 1 }
                return n
            }
            let appends = (0..<50).map { i in Task { try await p.append([Record(value: bytes("\(i)"))]) } }
            var acked = 0
            for a in appends { if (try? await a.value) != nil { acked += 1 } }
            try await store.close()
            #expect(try await tail.value <= acked) // the tail ends at close, having served what it read
            await #expect(throws: LogError.self) { try await p.append([Record(value: bytes("late"))]) }
            let again = try await openStore(dir)
            #expect(again.topic(named: "close")!.partitions[0].endOffset == Offset(Int64(acked)))
            try await again.close()
        }
    }

    @Test func groupCommitSharesSyncs() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "gc", creatingWith: store.defaultTopicConfiguration).partitions[0]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<64 { group.addTask { for j in 0..<5 { try await p.append([Record(value: bytes("\(i)-\(j)"))]) } } }
                try await group.waitForAll()
            }
            #expect(p.endOffset == 320)
            let stats = p.statistics
            #expect(stats.batchesSynced == 320)
            // 64 concurrent appenders must share syncs: far fewer syncs than appends.
            #expect(stats.syncs < 160, "syncs: \(stats.syncs)")
            try await store.close()
        }
    }
}
