import Foundation
import TestSupport
import Testing
@testable import EventLog

/// Damage in a sealed segment: every reader learns the damaged range, skips it, and goes on.
@Suite(.timeLimit(.minutes(1))) struct DamagedSegmentTests {
    /// 60 batches of three records on small segments, closed cleanly, then one byte of the value
    /// "batch 25 record 1" flipped in its sealed segment. Returns the values by offset.
    func damagedStore(_ dir: String) async throws -> [String] {
        let store = try await openStore(dir)
        // The default index interval (4 KiB) is longer than a segment: the index alone cannot
        // bound the damage; the batch's own header must.
        let config = TopicConfiguration(segmentBytes: 2048)
        let p = try await store.createTopic(named: "r", configuration: config).partitions[0]
        var values: [String] = []
        for b in 0..<60 {
            let records = (0..<3).map { Record(key: "k\(b)", value: bytes("batch \(b) record \($0) " + String(repeating: "z", count: b % 40))) }
            values += records.map { text($0.value)! }
            try await p.append(records)
        }
        try await store.close()
        try flip("batch 25 record 1 ", in: dir + "/topics/r/0")
        return values
    }

    /// Flips a byte of the first occurrence of `marker` in a `.log` file of `directory`; the
    /// file must be a sealed segment (not the last).
    func flip(_ marker: String, in directory: String) throws {
        let logs = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
        for (i, name) in logs.enumerated() {
            let path = directory + "/" + name
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let found = data.range(of: Data(marker.utf8)) else { continue }
            #expect(i < logs.count - 1, "the damaged segment must be sealed")
            data[found.lowerBound + 2] ^= 0x55
            try data.write(to: URL(fileURLWithPath: path))
            return
        }
        Issue.record("marker \(marker) not found")
    }

    @Test func recordSequenceThrowsTheDamagedRangeThenContinuesAfterIt() async throws {
        try await withTemporaryDirectory { dir in
            let values = try await damagedStore(dir)
            let s = try await openStore(dir)
            let p = s.topic(named: "r")!.partitions[0]
            var iterator = p.records(from: .earliest).makeAsyncIterator()
            var got: [StoredRecord] = []
            var damage: [LogError] = []
            while got.last?.offset.rawValue != Int64(values.count - 1), got.count + damage.count < values.count {
                do {
                    guard let record = try await iterator.next() else { break }
                    got.append(record)
                } catch let error as LogError where error.code == .corruptData {
                    damage.append(error)
                }
            }
            // Exactly batch 25 (offsets 75, 76, 77) is lost; everything else comes, in order, unchanged.
            #expect(damage.count == 1)
            #expect(damage.first?.range == OffsetRange(first: 75, end: 78))
            #expect(got.map(\.offset.rawValue) == Array(0..<75) + Array(78..<Int64(values.count)))
            for r in got { #expect(text(r.value) == values[Int(r.offset.rawValue)]) }
            try await s.close()
        }
    }

    @Test func readReportsOnlyTheDamagedBatchAndThePartitionRemembersIt() async throws {
        try await withTemporaryDirectory { dir in
            _ = try await damagedStore(dir)
            let s = try await openStore(dir)
            let p = s.topic(named: "r")!.partitions[0]
            #expect(p.damagedRanges.isEmpty)
            // From inside the damaged batch: the range starts where the read asked.
            for start: Int64 in [70, 75, 76] {
                do {
                    var next = Offset(start)
                    while true {
                        let r = try await p.read(from: next, maxRecords: 100)
                        next = r.nextOffset
                    }
                } catch let error as LogError where error.code == .corruptData {
                    #expect(error.range == OffsetRange(first: Offset(max(start, 75)), end: 78), "from \(start)")
                    #expect(error.message.contains("partition r/0"))
                }
            }
            // Known once, however many reads met it.
            #expect(p.damagedRanges == [OffsetRange(first: 75, end: 78)])
            try await s.close()
        }
    }

    @Test func groupReadsSkipTheDamagedRange() async throws {
        try await withTemporaryDirectory { dir in
            let values = try await damagedStore(dir)
            let s = try await openStore(dir)
            let groups = try await GroupCoordinator.open(store: s, logger: testLogger)
            let member = try await groups.join("g", topics: ["r"], sessionTimeout: .seconds(30))
            var got: [Int64] = []
            for _ in 0..<20 {
                let fetched = try await groups.fetch("g", member: member.memberID, maxRecords: 50)
                got += fetched.records.map(\.record.offset.rawValue)
                if fetched.positions.first?.nextOffset.rawValue == Int64(values.count) { break }
            }
            #expect(got == Array(0..<75) + Array(78..<Int64(values.count)))
            await groups.close()
            try await s.close()
        }
    }

    @Test func groupCommitsReplayPastDamageInTheOffsetsTopic() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration())
            let groups = try await GroupCoordinator.open(store: store, logger: testLogger)
            for g in 0..<20 {
                try await groups.commit([TopicPartition("t", 0): CommittedOffset(Offset(Int64(g)))], for: "group-\(g < 10 ? "0" : "")\(g)")
            }
            await groups.close()
            try await store.close()
            // Damage the commit of group-07 (a clean shutdown: no recovery scan cuts it).
            let logs = dir + "/topics/" + GroupCoordinator.offsetsTopicName + "/0"
            let name = try FileManager.default.contentsOfDirectory(atPath: logs).first { $0.hasSuffix(".log") }!
            var data = try Data(contentsOf: URL(fileURLWithPath: logs + "/" + name))
            let at = try #require(data.range(of: Data("group-07".utf8)))
            data[at.lowerBound + 3] ^= 0x55
            try data.write(to: URL(fileURLWithPath: logs + "/" + name))

            let reopened = try await openStore(dir)
            let again = try await GroupCoordinator.open(store: reopened, logger: testLogger)
            #expect(await again.committedOffset(for: "group-07", TopicPartition("t", 0)) == nil)
            for g in [0, 6, 8, 19] {
                let group = "group-\(g < 10 ? "0" : "")\(g)"
                #expect(await again.committedOffset(for: group, TopicPartition("t", 0))?.offset == Offset(Int64(g)), "\(group)")
            }
            await again.close()
            try await reopened.close()
        }
    }
}
