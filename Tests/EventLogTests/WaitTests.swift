import Foundation
import Synchronization
import TestSupport
import Testing
@testable import EventLog

/// Readers waiting for records: woken by the append that makes their offset readable, by
/// their timeout, by cancellation or by a close; each exactly once, leaving nothing behind.
@Suite(.timeLimit(.minutes(1))) struct WaitTests {
    @Test func aWaitOnSeveralPartitionsIsWokenByAnAppendToAnyOfThem() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let topic = try await store.createTopic(named: "w", configuration: TopicConfiguration(partitions: 3))
            let positions = topic.partitions.map { (partition: $0, offset: Offset(0)) }
            let waiter = Task { await Partition.waitForRecords(positions, timeout: .seconds(30)) }
            while topic.partitions.reduce(0, { $0 + $1.waiterCount }) < 3 { await Task.yield() }
            try await topic.partitions[2].append([Record(value: bytes("x"))])
            #expect(await waiter.value)
            #expect(topic.partitions.allSatisfy { $0.waiterBookkeepingCount == 0 })
            try await store.close()
        }
    }

    @Test func aWaitEndsAtItsTimeoutAndNotMuchLater() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "w", creatingWith: TopicConfiguration()).partitions[0]
            let clock = ContinuousClock()
            let started = clock.now
            let woke = await Partition.waitForRecords([(p, Offset(0))], timeout: .milliseconds(150))
            let took = clock.now - started
            #expect(!woke)
            // Not before its deadline; and it does end (a timer that never fired would hang
            // here). The upper bound is loose: under `make test` the two cooperative threads
            // can be busy with other suites for seconds before the resumed task runs.
            #expect(took >= .milliseconds(145) && took < .seconds(15), "took \(took)")
            #expect(p.waiterBookkeepingCount == 0)
            try await store.close()
        }
    }

    @Test func cancellingAWaitEndsItAtOnce() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "w", creatingWith: TopicConfiguration()).partitions[0]
            let waiter = Task { await Partition.waitForRecords([(p, Offset(0))], timeout: .seconds(60)) }
            while p.waiterCount < 1 { await Task.yield() }
            waiter.cancel()
            #expect(await waiter.value == false)
            #expect(p.waiterBookkeepingCount == 0)
            // Cancelled before it waits: returns at once.
            let early = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return await Partition.waitForRecords([(p, Offset(0))], timeout: .seconds(60))
            }
            #expect(await early.value == false)
            try await store.close()
        }
    }

    @Test func closingThePartitionEndsItsWaits() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "w", creatingWith: TopicConfiguration()).partitions[0]
            let waiter = Task { await Partition.waitForRecords([(p, Offset(0))], timeout: .seconds(60)) }
            while p.waiterCount < 1 { await Task.yield() }
            try await store.close()
            #expect(await waiter.value == false)
        }
    }

    /// A thousand readers waiting on one partition (a fan-out) are all woken by one append,
    /// and a thousand waits that time out together all end.
    @Test func manyWaitersAreWokenOnceEach() async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let p = try await store.topic(named: "w", creatingWith: TopicConfiguration()).partitions[0]
            let woken = Counter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<1000 {
                    group.addTask {
                        if await Partition.waitForRecords([(p, Offset(0))], timeout: .seconds(30)) { woken.add() }
                    }
                }
                while p.waiterCount < 1000 { try await Task.sleep(for: .milliseconds(1)) }
                try await p.append([Record(value: bytes("x"))])
                try await group.waitForAll()
            }
            #expect(woken.value == 1000)
            let timedOut = Counter()
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<1000 {
                    group.addTask {
                        if await !Partition.waitForRecords([(p, Offset(1))], timeout: .milliseconds(50)) { timedOut.add() }
                    }
                }
            }
            #expect(timedOut.value == 1000)
            #expect(p.waiterBookkeepingCount == 0)
            try await store.close()
        }
    }
}

private final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
