import Foundation
import Synchronization
import TestSupport
import Testing
@testable import EventLog

/// Power loss, not just process death: the engine's disk operations are journaled while
/// writers append with `fsync` durability, then the file system a power cut would leave at
/// many points of that journal is rebuilt (``PowerCutModel``: only what was synced, plus
/// variants where writeback got a little further) and opened. Every record acknowledged
/// before the cut must be there, byte for byte, at its offset; offsets stay dense.
@Suite struct PowerCutTests {
    struct Acknowledged {
        var partition: Int
        var first: Int64
        var values: [String]
        /// The journal's length when the append returned: the cut must keep it if it is later.
        var journalPosition: Int
    }

    final class Acknowledgements: Sendable {
        let list = Mutex<[Acknowledged]>([])
    }

    /// Rounds of the long form: `POWER_CUT_ROUNDS` (for `make torture`), else a short run.
    static let cuts = ProcessInfo.processInfo.environment["POWER_CUT_ROUNDS"].flatMap(Int.init) ?? 24

    @Test(.timeLimit(.minutes(10)), arguments: [CompressionCodec.none, .zstd])
    func everyRecordAcknowledgedBeforeAPowerCutSurvivesIt(codec: CompressionCodec) async throws {
        try await withTemporaryDirectory { base in
            let dir = base + "/data"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let faults = FaultInjector()
            faults.startJournal()
            let store = try await openStore(dir, faults: faults) { $0.flushInterval = .milliseconds(10); $0.cleanerInterval = nil }
            let topic = try await store.createTopic(named: "pc", configuration: TopicConfiguration(
                partitions: 2, compression: codec, durability: .fsync, segmentBytes: 4096))
            let acknowledged = Acknowledgements()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<6 {
                    group.addTask {
                        for s in 0..<30 {
                            let values = (0..<(1 + (w + s) % 4)).map { "w\(w)-s\(s)-r\($0)-" + String(repeating: "v", count: (w * 7 + s) % 90) }
                            let p = (w + s) % 2
                            let range = try await topic.partitions[p].append(values.map { Record(value: Array($0.utf8)) })
                            let position = faults.journalCount
                            acknowledged.list.withLock { $0.append(Acknowledged(partition: p, first: range.first.rawValue, values: values, journalPosition: position)) }
                            // Let the flusher write a checkpoint now and then.
                            if s % 10 == 9 { try await Task.sleep(for: .milliseconds(15)) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let journal = faults.journaledOperations
            let acks = acknowledged.list.withLock { $0 }
            try await store.close()

            var rng = SplitMix64(seed: UInt64(journal.count) &* 2_654_435_761)
            let cuts = (0..<Self.cuts).map { _ in Int.random(in: 0...journal.count, using: &rng) }.sorted()
            var model = PowerCutModel(root: dir)
            var applied = 0
            var checked = 0
            for cut in cuts {
                while applied < cut {
                    model.apply(journal[applied])
                    applied += 1
                }
                for extraWrites in [0, 1, 3] {
                    let image = base + "/cut-\(cut)-\(extraWrites)"
                    try model.materialize(at: image, extraWrites: extraWrites)
                    defer { try? FileManager.default.removeItem(atPath: image) }
                    let recovered = try await openStore(image)
                    let partitions = recovered.topic(named: "pc")?.partitions ?? []
                    var stored: [[String]] = []
                    for p in partitions {
                        #expect(p.startOffset == 0)
                        let records = try await readAll(p)
                        #expect(records.map(\.offset.rawValue) == Array(0..<Int64(records.count)), "offsets must stay dense")
                        stored.append(records.map { text($0.value)! })
                    }
                    for ack in acks where ack.journalPosition <= cut {
                        let found = ack.partition < stored.count ? Array(stored[ack.partition].dropFirst(Int(ack.first)).prefix(ack.values.count)) : []
                        #expect(found == ack.values, "cut at \(cut) of \(journal.count) (+\(extraWrites) writes) lost partition \(ack.partition) offset \(ack.first)")
                        checked += 1
                    }
                    try await recovered.close()
                }
            }
            #expect(acks.count == 180)
            #expect(checked > 0)
        }
    }
}
