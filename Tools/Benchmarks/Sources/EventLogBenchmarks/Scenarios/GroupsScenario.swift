#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif
import EventLog

/// Consumer groups: the latency of a durable commit, and the throughput of a member consuming
/// a pre-filled topic while committing every batch, against plain reads of the same data.
enum GroupsScenario {
    static let topic = "orders"
    /// Records per batch for every consumer here (``GroupConsumer/Options/maxRecordsPerBatch``'s default).
    static let batchRecords = 500
    static let session: Duration = .seconds(120)

    static func run(_ context: BenchmarkContext) async throws {
        let records = context.scale.groupRecords
        let seconds = context.scale.fsyncSeconds
        let rounds = context.scale.rounds
        let (store, dir) = try await context.openStore("groups", options: BenchmarkContext.manualCleaning)
        let partition = try await context.partition(in: store, topic, durability: .none)
        let workload = context.workload100
        _ = try await Appenders.append(to: partition, workload: workload, batches: records / workload.batchSize, tasks: context.options.appenders)
        guard partition.endOffset.rawValue == Int64(records) else { throw BenchmarkError("groups: the topic ends at \(partition.endOffset)") }
        sync()
        let coordinator = try await GroupCoordinator.open(store: store, logger: context.logger)
        let tp = TopicPartition(topic, 0)

        // Commit latency, interleaved with the disk's own pwrite + fdatasync latency.
        let committer = try await coordinator.join("bench-commits", topics: [topic], sessionTimeout: session)
        let member = GroupMemberGeneration(memberID: committer.memberID, generation: committer.generation)
        var disk = LatencySamples(capacity: 10_000), commits = LatencySamples(capacity: 10_000)
        var next: Int64 = 0
        for _ in 0..<rounds {
            try DiskProbe.fdatasyncLatencies(file: context.work.path + "/probe.dat", seconds: seconds, into: &disk)
            let deadline = Stopwatch.monotonicNanoseconds() + UInt64(seconds * 1e9)
            while true {
                let start = Stopwatch.monotonicNanoseconds()
                guard start < deadline else { break }
                next = (next + 1) % Int64(records)
                try await coordinator.commit([tp: CommittedOffset(Offset(next))], for: "bench-commits", by: member)
                commits.record(Stopwatch.monotonicNanoseconds() - start)
            }
        }
        guard await coordinator.committedOffset(for: "bench-commits", tp)?.offset == Offset(next) else {
            throw BenchmarkError("groups: the last commit is not the group's committed offset")
        }
        let label = "\(rounds) × \(Units.fixed(seconds, 0)) s"
        context.results.add(.groups, "GroupCoordinator.commit of 1 partition (fsync), p50 / p99, \(commits.count) commits, \(label)",
                            figure: Units.millis(commits.median() / 1000) + " / " + Units.millis(commits.p99() / 1000),
                            baseline: "4 KiB pwrite + fdatasync p50 / p99 " + Units.millis(disk.median() / 1000) + " / " + Units.millis(disk.p99() / 1000)
                                + " (\(disk.count))",
                            ratio: commits.median() / disk.median())

        // Consumption, interleaved: plain partition.read, the GroupConsumer, fetch + commit.
        var plain: [Double] = [], consumer: [Double] = [], fetch: [Double] = []
        for r in 0..<rounds {
            plain.append(Double(records) / (try await readPlain(partition, records: records)))
            consumer.append(Double(records) / (try await consume(coordinator, group: "bench-consumer-\(r)", records: records)))
            fetch.append(Double(records) / (try await fetchAndCommit(coordinator, group: "bench-fetch-\(r)", records: records)))
        }
        await coordinator.close()
        try await store.close()
        context.work.discard(dir)

        let (read, member1, fetched) = (Spread(plain), Spread(consumer), Spread(fetch))
        let rate = { (v: Double) in Units.rate(v) }
        let batches = "\(RandomReadScenario.millions(records)) records of 100 B, \(batchRecords) per batch"
        context.results.add(.groups, "GroupConsumer.batches(), 1 member, at-least-once (commits every batch), \(batches)",
                            figure: rate(member1.median) + member1.range(rate) + ", " + Units.rate(member1.median / Double(batchRecords), unit: "commits/s"),
                            baseline: "partition.read(maxRecords: \(batchRecords)) " + rate(read.median) + read.range(rate),
                            ratio: member1.median / read.median)
        context.results.add(.groups, "coordinator.fetch(maxRecords: \(batchRecords)) + commit(positions) per batch, \(batches)",
                            figure: rate(fetched.median) + fetched.range(rate),
                            baseline: "partition.read " + rate(read.median), ratio: fetched.median / read.median)
    }

    /// Reads every record with `partition.read`, `batchRecords` at a time: seconds.
    static func readPlain(_ partition: Partition, records: Int) async throws -> Double {
        let watch = Stopwatch()
        var next = partition.startOffset, count = 0
        while count < records {
            let r = try await partition.read(from: next, maxRecords: batchRecords)
            if r.records.isEmpty { break }
            count += r.records.count
            next = r.nextOffset
        }
        guard count == records else { throw BenchmarkError("partition.read returned \(count) of \(records) records") }
        return watch.elapsedSeconds
    }

    /// One member reads the whole topic through ``GroupConsumer/batches()`` (which commits the
    /// previous batch before handing out the next), then leaves (committing the last): seconds.
    static func consume(_ coordinator: GroupCoordinator, group: String, records: Int) async throws -> Double {
        var options = GroupConsumer.Options()
        options.sessionTimeout = session
        options.maxRecordsPerBatch = batchRecords
        let consumer = try await GroupConsumer.join(group, topics: [topic], coordinator: coordinator, options: options)
        let watch = Stopwatch()
        var count = 0, expected: Int64 = 0
        for try await batch in consumer.batches() {
            guard batch.records.first?.offset.rawValue == expected else { throw BenchmarkError("\(group): a batch starts at \(String(describing: batch.records.first?.offset)), expected \(expected)") }
            count += batch.records.count
            expected = batch.nextOffset.rawValue
            if count >= records { break }
        }
        try await consumer.leave()
        let seconds = watch.elapsedSeconds
        let committed = await coordinator.committedOffset(for: group, TopicPartition(topic, 0))?.offset
        guard count == records, committed == Offset(Int64(records)) else {
            throw BenchmarkError("\(group): consumed \(count) of \(records) records, committed \(String(describing: committed))")
        }
        return seconds
    }

    /// One member reads the whole topic with ``GroupCoordinator/fetch(_:member:maxRecords:wait:)``
    /// and commits the returned positions after every batch: seconds.
    static func fetchAndCommit(_ coordinator: GroupCoordinator, group: String, records: Int) async throws -> Double {
        let me = try await coordinator.join(group, topics: [topic], sessionTimeout: session)
        let member = GroupMemberGeneration(memberID: me.memberID, generation: me.generation)
        let watch = Stopwatch()
        var count = 0
        while count < records {
            let fetched = try await coordinator.fetch(group, member: me.memberID, maxRecords: batchRecords)
            if fetched.records.isEmpty { break }
            count += fetched.records.count
            try await coordinator.commit(fetched.positions, for: group, by: member)
        }
        let seconds = watch.elapsedSeconds
        try await coordinator.leave(group, member: me.memberID)
        guard count == records else { throw BenchmarkError("\(group): fetched \(count) of \(records) records") }
        return seconds
    }
}
