import Foundation
import Synchronization
import TestSupport
import Testing
@testable import EventLog

/// Topic-level producing and consuming: `Topic.append` routes by key and answers in input
/// order; `Topic.records(from:)` follows every partition, resumes from a position's text, and
/// says where it cannot deliver (gap and reset notices).
@Suite(.timeLimit(.minutes(1))) struct TopicTests {
    /// The events of `sequence` until `done` says so.
    func collect(_ sequence: TopicRecordSequence, until done: ([TopicEvent]) -> Bool) async throws -> [TopicEvent] {
        var events: [TopicEvent] = []
        for try await event in sequence {
            events.append(event)
            if done(events) { break }
        }
        return events
    }

    func records(_ events: [TopicEvent]) -> [TopicRecord] { events.compactMap(\.record) }
    func notices(_ events: [TopicEvent]) -> [TopicNotice] {
        events.compactMap { if case .notice(let n) = $0 { n } else { nil } }
    }

    // MARK: append

    @Test func keyedRecordsGoWhereKafkasPartitionerPutsThem() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 3))
            // Kafka's murmur2 of these keys (UtilsTest.testMurmur2), and its partition rule.
            let kafka: [(String, Int32)] = [("21", -973932308), ("foobar", -790332482), ("a-little-bit-long-string", -985981536),
                                            ("a-little-bit-longer-string", -1486304829)]
            let placed = try await topic.append(kafka.map { Record(key: $0.0, value: bytes("v-" + $0.0)) })
            for ((key, hash), placement) in zip(kafka, placed) {
                #expect(placement.partition == Int(UInt32(bitPattern: hash) & 0x7fff_ffff) % 3, "\(key)")
                #expect(placement.partition == topic.partitionIndex(forKey: bytes(key)))
            }
            // The same key again: the same partition, the next offset there.
            let again = try await topic.append([Record(key: "foobar", value: bytes("again"))])
            #expect(again[0].partition == placed[1].partition && again[0].offset == placed[1].offset + 1)
            try await store.close()
        }
    }

    /// The server routes a produce request's keys as they lie in the request body, and a
    /// consumer may route by a key it read: every form of the key's bytes picks the partition
    /// Kafka's partitioner does, contiguous ones hashed in place.
    @Test func partitionIndexTakesAKeyInAnyFormOfBytes() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 3))
            let kafka: [(String, Int32)] = [("21", -973932308), ("foobar", -790332482), ("a-little-bit-long-string", -985981536),
                                            ("a-little-bit-longer-string", -1486304829)]
            _ = try await topic.partitions[0].append(kafka.map { Record(key: $0.0, value: nil) })
            let stored = try await readAll(topic.partitions[0])  // keys as views into the read's buffer
            for ((key, hash), record) in zip(kafka, stored) {
                let expected = Int(UInt32(bitPattern: hash) & 0x7fff_ffff) % 3
                let body = OwnedBytes(bytes("{\"key\":\"\(key)\"}"))  // as the produce route holds a key: in the body
                let inBody = RecordBytes(unsafeBytes: UnsafeRawBufferPointer(rebasing: body.memory[8..<8 + key.utf8.count]), owner: body)
                #expect(topic.partitionIndex(forKey: bytes(key)) == expected, "\(key) as [UInt8]")
                #expect(topic.partitionIndex(forKey: RecordBytes(key)) == expected, "\(key) as RecordBytes")
                #expect(topic.partitionIndex(forKey: try #require(record.key)) == expected, "\(key) read back")
                #expect(topic.partitionIndex(forKey: inBody) == expected, "\(key) in a request body")
                #expect(topic.partitionIndex(forKey: key.utf8) == expected, "\(key) as a string's UTF-8")
                #expect(topic.partitionIndex(forKey: bytes(key).lazy.map { $0 }) == expected, "\(key) not contiguous")
            }
            try await store.close()
        }
    }

    @Test func resultsComeInInputOrderAndPointAtTheRecords() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 4))
            let input = (0..<40).map { i in Record(key: i % 5 == 0 ? nil : "key-\(i % 7)", value: bytes("value-\(i)")) }
            let placed = try await topic.append(input)
            #expect(placed.count == input.count)
            for (record, placement) in zip(input, placed) {
                let stored = try await topic.partitions[placement.partition].read(from: placement.offset, maxRecords: 1).records
                #expect(stored.first?.offset == placement.offset)
                #expect(stored.first?.value == record.value, "\(placement) holds another record")
            }
            // Per partition, consecutive offsets in input order (one atomic batch each).
            for p in 0..<4 {
                let offsets = placed.filter { $0.partition == p }.map(\.offset.rawValue)
                #expect(offsets == Array(offsets.indices).map(Int64.init))
            }
            #expect(try await topic.append([]).isEmpty)
            try await store.close()
        }
    }

    @Test func keylessRecordsTakeTurnsOnePartitionPerCall() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 3))
            var turns: [Int] = []
            for call in 0..<6 {
                let placed = try await topic.append((0..<4).map { Record(value: bytes("c\(call)-\($0)")) })
                #expect(Set(placed.map(\.partition)).count == 1, "one call's keyless records stay together")
                turns.append(placed[0].partition)
            }
            // Every partition in turn, then again in the same order.
            #expect(Set(turns[0..<3]) == [0, 1, 2])
            #expect(Array(turns[3..<6]) == Array(turns[0..<3]))
            #expect(topic.partitions.map(\.endOffset) == [8, 8, 8])
            try await store.close()
        }
    }

    // MARK: records(from:)

    @Test func replaysEveryPartitionThenTailsLiveAppends() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 3, durability: .none))
            let stored = try await topic.append((0..<30).map { Record(key: "k\($0 % 10)", value: bytes("old-\($0)")) })
            // Appended once the reader has caught up (it waits, woken by the appends).
            let live = Task {
                try await Task.sleep(for: .milliseconds(100))
                return try await topic.append((0..<30).map { Record(key: "k\($0 % 10)", value: bytes("new-\($0)")) })
            }
            let events = try await collect(topic.records(from: .earliest)) { records($0).count == 60 }
            let appended = try await live.value
            let got = records(events)
            #expect(notices(events).isEmpty)
            // Every record exactly once, each partition in offset order.
            #expect(Set(got.map { PartitionOffset(partition: $0.partition, offset: $0.offset) }) == Set(stored + appended))
            for p in 0..<3 {
                let offsets = got.filter { $0.partition == p }.map(\.offset)
                #expect(offsets == offsets.sorted())
            }
            #expect(got.prefix(30).allSatisfy { text($0.value)!.hasPrefix("old-") })
            #expect(got.suffix(30).allSatisfy { text($0.value)!.hasPrefix("new-") })
            try await store.close()
        }
    }

    @Test func resumingFromAPositionsTextDeliversExactlyTheRest() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 3, durability: .none))
            try await topic.append((0..<50).map { Record(key: "k\($0)", value: bytes("\($0)")) })
            var position = try await topic.position(for: .earliest)
            #expect(position.description == "-1,-1,-1")
            var first: [TopicRecord] = []
            for try await event in topic.records(from: position) {
                position.advance(past: event)
                if let record = event.record { first.append(record) }
                if first.count == 20 { break }
            }
            // The position travels as text, as an SSE cursor does.
            let cursor = position.description
            let resumed = try #require(TopicPosition(cursor))
            #expect(resumed == position)
            try await topic.append((50..<60).map { Record(key: "k\($0)", value: bytes("\($0)")) })
            let rest = records(try await collect(topic.records(from: resumed)) { records($0).count == 40 })
            let all = (first + rest).map { text($0.value)! }
            #expect(all.count == 60 && Set(all) == Set((0..<60).map(String.init)), "no loss, no repeat")
            try await store.close()
        }
    }

    @Test func aPositionPastTheEndIsResetAndOneOfAnotherShapeIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 2))
            try await topic.partitions[0].append([Record(value: bytes("a")), Record(value: bytes("b"))])
            // As a cursor kept from a topic deleted and made again: partition 1 is past its end.
            let position = TopicPosition(nextOffsets: [1, 5])
            try await topic.partitions[1].append([Record(value: bytes("c"))])
            let later = Task {
                try await Task.sleep(for: .milliseconds(50))
                try await topic.partitions[1].append([Record(value: bytes("d"))])
            }
            let events = try await collect(topic.records(from: position)) { records($0).count == 2 }
            try await later.value
            #expect(notices(events) == [TopicNotice(kind: .reset, partition: 1, requested: 5, resumedFrom: 1)])
            if case .notice = events.first {} else { Issue.record("the notice comes first") }
            #expect(records(events).map { text($0.value)! } == ["b", "d"])
            // More partitions than the topic has: refused. (Fewer is a position from before a
            // growth: PartitionGrowthTests.)
            await #expect {
                var iterator = topic.records(from: TopicPosition(nextOffsets: [0, 0, 0])).makeAsyncIterator()
                _ = try await iterator.next()
            } throws: { ($0 as? LogError)?.code == .invalidArgument }
            try await store.close()
        }
    }

    @Test func recordsDeletedByRetentionAreAGap() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) { $0.cleanerInterval = nil }
            var configuration = TopicConfiguration(segmentBytes: 1024)
            configuration.retentionBytes = 2048
            let topic = try await store.createTopic(named: "t", configuration: configuration)
            let partition = topic.partitions[0]
            for i in 0..<40 { try await partition.append([Record(value: bytes("record \(i) " + String(repeating: "x", count: 100)))]) }
            _ = try await partition.applyRetention()
            let start = partition.startOffset
            #expect(start > 0)
            let events = try await collect(topic.records(from: TopicPosition(nextOffsets: [0]))) { records($0).last?.offset == 39 }
            #expect(notices(events) == [TopicNotice(kind: .gap, partition: 0, requested: 0, resumedFrom: start)])
            #expect(records(events).map(\.offset) == Array(start.rawValue..<40).map { Offset($0) })
            try await store.close()
        }
    }

    @Test func damagedDataIsAGapAndReadingGoesOn() async throws {
        try await withTemporaryDirectory { dir in
            let values = try await DamagedSegmentTests().damagedStore(dir)
            let store = try await openStore(dir)
            let topic = try #require(store.topic(named: "r"))
            let events = try await collect(topic.records(from: .earliest)) { records($0).last?.offset.rawValue == Int64(values.count - 1) }
            #expect(notices(events) == [TopicNotice(kind: .gap, partition: 0, requested: 75, resumedFrom: 78, damaged: true)])
            let got = records(events)
            #expect(got.map(\.offset.rawValue) == Array(0..<75) + Array(78..<Int64(values.count)))
            #expect(got.map { text($0.value)! } == Array(values[0..<75] + values[78...]))
            try await store.close()
        }
    }

    @Test func theSequenceEndsWhenTheTopicIsDeleted() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 2))
            let reader = Task { try await collect(topic.records(from: .earliest)) { _ in false } }
            try await Task.sleep(for: .milliseconds(50))
            try await store.deleteTopic(named: "t")
            #expect(try await reader.value.isEmpty)
            try await store.close()
        }
    }

    // MARK: TopicPosition

    @Test func positionsRoundTripThroughTheirText() {
        var rng = SplitMix64(seed: 0x5EED_0F_7E47)
        for _ in 0..<2000 {
            let count = Int.random(in: 1...12, using: &rng)
            let offsets = (0..<count).map { _ -> Offset in
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: Offset(0)
                case 1: Offset(Int64.max)
                case 2: Offset(Int64.random(in: 0...1000, using: &rng))
                default: Offset(Int64.random(in: 0...Int64.max, using: &rng))
                }
            }
            let position = TopicPosition(nextOffsets: offsets)
            let text = position.description
            #expect(TopicPosition(text) == position, "\(text)")
            #expect(TopicPosition(parsing: Substring(text)) == position)
        }
        #expect(TopicPosition(nextOffsets: [18, 5, 0]).description == "17,4,-1")
        #expect(TopicPosition("17") == TopicPosition(nextOffsets: [18]))
    }

    /// Only the cursor's strict form: Int64.max names no next offset (its `+ 1` would overflow).
    @Test(arguments: ["", "abc", "1.5", "0:3", "12abc", "0x1", "-2", "1,,1", ",1", "1,", "01", "+1",
                      "18446744073709551616", "1;2", "9223372036854775807", "0,9223372036854775807",
                      "-9223372036854775808", "-0", " 1"])
    func malformedPositionsAreRefused(text: String) {
        #expect(TopicPosition(text) == nil)
    }

    // MARK: Internal topics

    @Test func internalTopicsRefuseClientWritesButNotTheCoordinator() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let coordinator = try await GroupCoordinator.open(store: store, logger: testLogger)
            let offsets = try #require(store.topic(named: GroupCoordinator.offsetsTopicName))
            #expect(offsets.isInternal)
            func isInternalTopicError(_ error: any Error) -> Bool { (error as? LogError)?.code == .internalTopic }
            await #expect { try await offsets.partitions[0].append([Record(value: bytes("forged"))]) } throws: { isInternalTopicError($0) }
            await #expect { try await offsets.append([Record(key: "g", value: bytes("forged"))]) } throws: { isInternalTopicError($0) }
            await #expect { try await store.deleteTopic(named: GroupCoordinator.offsetsTopicName) } throws: { isInternalTopicError($0) }
            // `__` names are the internal topics': a client's topic cannot take one.
            await #expect { try await store.createTopic(named: "__mine", configuration: TopicConfiguration()) } throws: { isInternalTopicError($0) }
            var internalConfiguration = TopicConfiguration()
            internalConfiguration.isInternal = true
            await #expect { try await store.createTopic(named: "mine", configuration: internalConfiguration) } throws: { isInternalTopicError($0) }
            // The coordinator writes through its own path.
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration())
            try await coordinator.commit([TopicPartition("t", 0): CommittedOffset(Offset(0))], for: "g")
            #expect(offsets.partitions[0].endOffset == 1)
            await coordinator.close()
            try await store.close()
        }
    }
}
