/// What to run and how big: set from the command line.
public struct BenchmarkOptions: Sendable {
    /// The scenarios to run, in ``ScenarioName`` order.
    public var scenarios: [ScenarioName] = ScenarioName.allCases
    /// A small smoke run: every size and duration cut down about tenfold.
    public var quick = false
    /// Where the scratch directory is made (it is removed at the end).
    public var parentDirectory = "/tmp"
    /// The size of the log for the `open` scenario, in bytes (scaled down when the disk is short).
    public var openLogBytes: Int64?
    /// Concurrent appending tasks for the throughput scenarios.
    public var appenders = 4
    /// Seconds for each time-bounded loop (fsync rates); `nil` for the default of the scale.
    public var seconds: Double?
    /// The size of the logs of `compaction` and `log-dump-verify`, in bytes (scaled down when the disk is short).
    public var logBytes: Int64?
    /// The `log-dump` executable to time; `nil` to build it (or find the repository's release build).
    public var logDumpPath: String?

    public init() {}
}

/// The sizes and durations of a run.
struct Scale {
    var ddBytes: Int
    var fdatasyncSeconds: Double
    var ceilingRecords: Int
    var appendRecords: Int
    var sqliteRecords: Int
    var compressedRecords: Int
    var fsyncSeconds: Double
    var readLargeRecords: Int
    var readSmallRecords: Int
    var randomSamples: Int
    var coldSamples: Int
    var dropCacheSamples: Int
    var openLogBytes: Int64
    var crashTails: [Int]
    /// The log compacted by `compaction` and verified by `log-dump-verify`.
    var logBytes: Int64
    /// Distinct keys of the compacted logs.
    var compactionKeys: Int
    /// `segmentBytes` of the compacted topics.
    var compactionSegmentBytes: Int64
    /// Length of each append run in `append-while-compacting`.
    var busySeconds: Double
    /// Records of the topic a consumer group reads in `groups`.
    var groupRecords: Int
    /// How many times a throughput figure (and its baseline) is measured; the median is reported.
    var rounds: Int

    init(_ options: BenchmarkOptions) {
        if options.quick {
            ddBytes = 128 << 20
            fdatasyncSeconds = 1
            ceilingRecords = 500_000
            appendRecords = 1_000_000
            sqliteRecords = 200_000
            compressedRecords = 300_000
            fsyncSeconds = 1
            readLargeRecords = 1_000_000
            readSmallRecords = 100_000
            randomSamples = 20_000
            coldSamples = 30
            dropCacheSamples = 3
            openLogBytes = 256 << 20
            crashTails = [2 << 20, 16 << 20]
            logBytes = 100_000_000
            compactionKeys = 100_000
            compactionSegmentBytes = 8 << 20
            busySeconds = 1
            groupRecords = 200_000
            rounds = 1
        } else {
            ddBytes = 1 << 30
            fdatasyncSeconds = 2
            ceilingRecords = 5_000_000
            appendRecords = 5_000_000
            sqliteRecords = 2_000_000
            compressedRecords = 2_000_000
            fsyncSeconds = 3
            readLargeRecords = 10_000_000
            readSmallRecords = 1_000_000
            randomSamples = 200_000
            coldSamples = 300
            dropCacheSamples = 30
            openLogBytes = 5_000_000_000
            crashTails = [8 << 20, 64 << 20, 256 << 20]
            logBytes = 1_000_000_000
            compactionKeys = 100_000
            compactionSegmentBytes = 64 << 20
            busySeconds = 3
            groupRecords = 2_000_000
            rounds = 3
        }
        if let s = options.seconds {
            fsyncSeconds = s
            fdatasyncSeconds = s
            busySeconds = s
        }
        if let b = options.openLogBytes { openLogBytes = b }
        if let b = options.logBytes { logBytes = b }
    }
}
