import EventLog
import Logging

/// What every scenario shares: options, scale, scratch directory, the lazily measured
/// baselines, the read fixture and the results table. Scenarios run one after another.
final class BenchmarkContext {
    let options: BenchmarkOptions
    let scale: Scale
    let work: WorkDirectory
    let logger: Logger
    lazy var baselines = Baselines(context: self)
    var results = ResultTable()
    /// Notes printed under the table (what could not be measured and why, method details).
    var notes: [String] = []
    /// The 10M/1M-record store shared by the read scenarios, built on first use.
    var readFixture: ReadFixture?
    /// 100-byte records in batches of 100: the records of every append and read scenario.
    lazy var workload100 = Workload(valueSize: 100, batchSize: 100)
    /// 1 KiB records in batches of 1024 (1 MiB of values per batch).
    lazy var workload1MiB = Workload(valueSize: 1024, batchSize: 1024, distinct: 4)

    init(options: BenchmarkOptions) throws {
        self.options = options
        self.scale = Scale(options)
        self.work = try WorkDirectory(parent: options.parentDirectory)
        self.logger = Logger(label: "eventlog-bench", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    /// Records a note for the end of the report and prints it now.
    func note(_ text: String) {
        notes.append(text)
        print("  note: \(text)")
    }

    /// A fresh store in a fresh subdirectory.
    func openStore(_ name: String, options: LogStore.Options = LogStore.Options()) async throws -> (LogStore, String) {
        let dir = try work.fresh(name)
        return (try await LogStore.open(at: dir, options: options, logger: logger), dir)
    }

    /// Store options without the background cleaner, so that only the scenario compacts.
    static var manualCleaning: LogStore.Options {
        var options = LogStore.Options()
        options.cleanerInterval = nil
        return options
    }

    /// A topic of one partition with the given settings.
    func partition(in store: LogStore, _ name: String, compression: CompressionCodec = .none,
                   durability: Durability) async throws -> Partition {
        let configuration = TopicConfiguration(partitions: 1, compression: compression, durability: durability)
        return try await store.createTopic(named: name, configuration: configuration).partitions[0]
    }

    /// The one partition of a topic created with `configuration`.
    func partition(in store: LogStore, _ name: String, configuration: TopicConfiguration) async throws -> Partition {
        try await store.createTopic(named: name, configuration: configuration).partitions[0]
    }

    /// A compacted topic of one partition: the cleanup policy and segment size of the
    /// compaction scenarios, durability `none`.
    func compactedPartition(in store: LogStore, _ name: String) async throws -> Partition {
        let configuration = TopicConfiguration(partitions: 1, durability: .none, cleanupPolicy: .compact,
                                               segmentBytes: scale.compactionSegmentBytes)
        return try await partition(in: store, name, configuration: configuration)
    }

    /// How big a log of `requested` bytes may be when `copies` of it must fit on the scratch
    /// file system with 4 GiB to spare (`statvfs(3)`); `nil` when not even 64 MiB (or `requested`) fit. A scaled-down
    /// size is noted.
    func logSize(_ requested: Int64, copies: Int64 = 2, for scenario: ScenarioName) -> Int64? {
        let available = Machine.availableBytes(at: work.path)
        let size = min(requested, max(0, (available - (4 << 30)) / copies))
        guard size >= min(requested, 64 << 20) else {
            note("\(scenario.rawValue) not measured: only \(Units.bytes(available)) free at \(work.path).")
            return nil
        }
        if size < requested {
            note("\(scenario.rawValue): the log was scaled down from \(Units.bytes(requested)) to \(Units.bytes(size)): \(Units.bytes(available)) free.")
        }
        return size
    }
}
