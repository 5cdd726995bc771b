import TestSupport
import Testing
@testable import EventLog

/// Group commit under `fsync` durability: the appends that queue while a sync runs share
/// the next one (ADR 0013).
@Suite struct GroupCommitTests {
    /// On a slow disk, the appends made while one sync runs wait for it to end, then are
    /// written and synced together: one more sync for all of them, not one each.
    @Test func appendsQueuedDuringASyncShareTheNextOne() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjector()
            let store = try await openStore(dir, faults: faults)
            let p = try await store.createTopic(named: "slow", configuration: TopicConfiguration(durability: .fsync)).partitions[0]
            faults.slow(.fdatasync, by: .milliseconds(300))
            let before = p.statistics
            let first = Task { try await p.append([Record(value: bytes("first"))]) }
            // The first append's sync is running (or about to): these queue behind it.
            try await Task.sleep(for: .milliseconds(50))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<16 { group.addTask { try await p.append([Record(value: bytes("queued-\(i)"))]) } }
                try await group.waitForAll()
            }
            _ = try await first.value
            faults.clear()
            let after = p.statistics
            #expect(after.batchesSynced - before.batchesSynced == 17)
            // One sync for the first append, one for the sixteen that queued during it (a
            // third only if a task of the sixteen was scheduled 250 ms late).
            #expect(after.syncs - before.syncs <= 3, "syncs: \(after.syncs - before.syncs)")
            #expect(after.syncs - before.syncs >= 2)
            try await store.close()
        }
    }
}
