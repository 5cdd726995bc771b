import EventLog

/// The store the read scenarios share: a large and a small partition of 100-byte records,
/// written with durability `none`, then closed (synced) and reopened, so every page is clean.
final class ReadFixture {
    let store: LogStore
    let directory: String
    let large: Partition
    let small: Partition
    let largeRecords: Int
    let smallRecords: Int

    private init(store: LogStore, directory: String, large: Partition, small: Partition, largeRecords: Int, smallRecords: Int) {
        self.store = store
        self.directory = directory
        self.large = large
        self.small = small
        self.largeRecords = largeRecords
        self.smallRecords = smallRecords
    }

    static let largeTopic = "large"
    static let smallTopic = "small"

    /// The fixture of this run, built on first use.
    static func shared(_ context: BenchmarkContext) async throws -> ReadFixture {
        if let f = context.readFixture { return f }
        let f = try await build(context)
        context.readFixture = f
        return f
    }

    private static func build(_ context: BenchmarkContext) async throws -> ReadFixture {
        let workload = context.workload100
        let largeRecords = context.scale.readLargeRecords, smallRecords = context.scale.readSmallRecords
        let (store, dir) = try await context.openStore("read-fixture")
        let watch = Stopwatch()
        for (name, records) in [(largeTopic, largeRecords), (smallTopic, smallRecords)] {
            let p = try await context.partition(in: store, name, durability: .none)
            _ = try await Appenders.append(to: p, workload: workload, batches: records / workload.batchSize, tasks: context.options.appenders)
        }
        try await store.close()
        let reopened = try await LogStore.open(at: dir, logger: context.logger)
        guard let large = reopened.topic(named: largeTopic)?.partitions[0], let small = reopened.topic(named: smallTopic)?.partitions[0],
              large.endOffset.rawValue == Int64(largeRecords), small.endOffset.rawValue == Int64(smallRecords)
        else { throw BenchmarkError("the read fixture did not reopen with its records") }
        print("  read fixture: \(largeRecords) + \(smallRecords) records, \(Units.bytes(large.sizeInBytes)) + \(Units.bytes(small.sizeInBytes)), "
            + "\(large.segmentCount) + \(small.segmentCount) segments, built in \(Units.fixed(watch.elapsedSeconds, 1)) s")
        return ReadFixture(store: reopened, directory: dir, large: large, small: small, largeRecords: largeRecords, smallRecords: smallRecords)
    }

    /// The files of a partition's topic (segments, indexes, checkpoint).
    func files(of partition: Partition) -> [String] {
        WorkDirectory.files(under: directory + "/topics/" + partition.topicName)
    }

    func close() async throws {
        try await store.close()
    }
}
