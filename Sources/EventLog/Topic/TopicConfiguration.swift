/// How a batch is compressed on disk (Kafka's codec ids in the batch attributes).
public enum CompressionCodec: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Stored as is (codec 0).
    case none = 0
    /// LZ4 frame format (codec 3), through the system's liblz4.
    case lz4 = 3
    /// Zstandard (codec 4), through the system's libzstd.
    case zstd = 4

    /// The name used in configuration and JSON: `none`, `lz4`, `zstd`.
    public var description: String {
        switch self {
        case .none: "none"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// Parses `none`, `lz4` or `zstd`.
    public init?(name: String) {
        switch name {
        case "none": self = .none
        case "lz4": self = .lz4
        case "zstd": self = .zstd
        default: return nil
        }
    }
}

/// When an append is acknowledged relative to stable storage.
///
/// Its text, which ``init(parsing:)`` reads and ``description`` writes, is the one form of
/// every configuration: `topic.conf`, `logd`'s `--default-durability` flag and file, and the
/// server's topic settings: `fsync`, `none`, `interval` (a sync every
/// ``defaultInterval``) or `interval:<milliseconds>` (`interval:250`).
public enum Durability: Hashable, Sendable, LosslessStringConvertible {
    /// The append returns after `fdatasync(2)`; concurrent appenders share one sync (group commit).
    case fsync
    /// A background sync runs every so often; appends return once written. The period is a
    /// whole number of milliseconds, 1 ms or more (``TopicConfiguration/validate()``).
    case interval(Duration)
    /// The operating system decides when data reaches the disk.
    case none

    /// The period of `interval` when none is given: one second.
    public static let defaultInterval: Duration = .seconds(1)

    /// `fsync`, `interval` or `none`.
    public var name: String {
        switch self {
        case .fsync: "fsync"
        case .interval: "interval"
        case .none: "none"
        }
    }

    /// Parses `fsync`, `none`, `interval` (every ``defaultInterval``) or
    /// `interval:<milliseconds>` (a decimal number from 1, without sign or leading zeros);
    /// `nil` for anything else.
    public init?(parsing text: some StringProtocol) {
        switch text {
        case "fsync": self = .fsync
        case "none": self = .none
        case "interval": self = .interval(Self.defaultInterval)
        default:
            guard text.hasPrefix("interval:"),
                  let ms = DecimalInteger.parse(text.dropFirst("interval:".count), in: 1...Int64.max) else { return nil }
            self = .interval(.milliseconds(ms))
        }
    }

    /// Parses the text ``description`` writes; see ``init(parsing:)``.
    public init?(_ description: String) {
        self.init(parsing: description)
    }

    /// `fsync`, `none` or `interval:<milliseconds>`: the text ``init(parsing:)`` reads back.
    public var description: String {
        switch self {
        case .interval(let period): "interval:\(period.wholeMilliseconds)"
        default: name
        }
    }
}

/// What the cleaner does with old data.
public struct CleanupPolicy: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Delete whole closed segments past the retention limits.
    public static let delete = CleanupPolicy(rawValue: 1)
    /// Keep only the latest record per key in closed segments.
    public static let compact = CleanupPolicy(rawValue: 2)

    /// `delete`, `compact` or `compact,delete`.
    public var description: String {
        switch (contains(.compact), contains(.delete)) {
        case (true, true): "compact,delete"
        case (true, false): "compact"
        default: "delete"
        }
    }

    /// Parses `delete`, `compact`, `compact,delete` (or `delete,compact`).
    public init?(name: String) {
        switch name {
        case "delete": self = .delete
        case "compact": self = .compact
        case "compact,delete", "delete,compact": self = [.compact, .delete]
        default: return nil
        }
    }
}

/// A topic's settings. Every field has Kafka's meaning and a safe default.
///
/// Given at creation; ``LogStore/alterTopic(named:_:)`` changes the durability, cleanup policy,
/// retention and compaction settings of an existing topic and may grow its partition count,
/// the others are fixed.
///
/// Time spans are `Duration`s, kept to the millisecond (as `topic.conf` and Kafka keep them:
/// a span set with a finer part is rounded down to whole milliseconds).
public struct TopicConfiguration: Hashable, Sendable {
    /// How many partitions the topic has (1 to 10,000; ``LogStore/alterTopic(named:_:)`` may
    /// grow it, never shrink it).
    public var partitions: Int = 1
    /// The codec each batch is compressed with.
    public var compression: CompressionCodec = .none
    /// When appends are acknowledged; `fsync` by default.
    public var durability: Durability = .fsync
    /// Retention, compaction or both.
    public var cleanupPolicy: CleanupPolicy = .delete
    /// Closed segments whose newest record is older than this are deleted; `nil` (the
    /// default) keeps them forever. Kafka's `retention.ms`.
    public var retention: Duration? {
        get { retentionMs == -1 ? nil : .milliseconds(retentionMs) }
        set { retentionMs = newValue.map(Self.milliseconds) ?? -1 }
    }
    /// Closed segments are deleted, oldest first, while the partition is larger than this; -1 for no limit.
    public var retentionBytes: Int64 = -1
    /// The active segment rolls once it would grow past this many bytes.
    public var segmentBytes: Int64 = 1 << 30
    /// The active segment rolls once its first record is older than this (7 days by default).
    /// Kafka's `segment.ms`.
    public var maxSegmentAge: Duration {
        get { .milliseconds(segmentMs) }
        set { segmentMs = Self.milliseconds(newValue) }
    }
    /// An offset-index and time-index entry is written every this many bytes of log.
    public var indexIntervalBytes: Int = 4096
    /// How long tombstones survive compaction, so consumers can see them (1 day by default).
    /// Kafka's `delete.retention.ms`.
    public var deleteRetention: Duration {
        get { .milliseconds(deleteRetentionMs) }
        set { deleteRetentionMs = Self.milliseconds(newValue) }
    }
    /// Records younger than this are not compacted (0 by default). Kafka's `min.compaction.lag.ms`.
    public var minCompactionLag: Duration {
        get { .milliseconds(minCompactionLagMs) }
        set { minCompactionLagMs = Self.milliseconds(newValue) }
    }
    /// A superseded record stays at most this long before the cleaner must run; `nil` (the
    /// default) for no limit. Kafka's `max.compaction.lag.ms`.
    public var maxCompactionLag: Duration? {
        get { maxCompactionLagMs == .max ? nil : .milliseconds(maxCompactionLagMs) }
        set { maxCompactionLagMs = newValue.map(Self.milliseconds) ?? .max }
    }
    /// The cleaner compacts a partition once this fraction of its closed log is dirty.
    public var minCleanableDirtyRatio: Double = 0.5
    /// The largest batch, in bytes, one append may write.
    public var maxBatchBytes: Int = 16 << 20
    /// Whether the topic is internal: the library's own state (consumer group commits), named
    /// with `__`, hidden from listings, refusing clients' writes (``Topic/isInternal``).
    public var isInternal: Bool = false

    // The time spans, in milliseconds as topic.conf stores them (-1 and .max: no limit).
    var retentionMs: Int64 = -1
    var segmentMs: Int64 = 7 * 24 * 3_600_000
    var deleteRetentionMs: Int64 = 24 * 3_600_000
    var minCompactionLagMs: Int64 = 0
    var maxCompactionLagMs: Int64 = .max

    /// The defaults: one partition, no compression, `fsync` durability, delete policy, no retention limit.
    public init() {}

    /// Makes a configuration, leaving every setting not given at its default (the defaults
    /// are the properties' own: ``init()`` is their one source).
    public init(
        partitions: Int = TopicConfiguration().partitions,
        compression: CompressionCodec = TopicConfiguration().compression,
        durability: Durability = TopicConfiguration().durability,
        cleanupPolicy: CleanupPolicy = TopicConfiguration().cleanupPolicy,
        retention: Duration? = TopicConfiguration().retention,
        retentionBytes: Int64 = TopicConfiguration().retentionBytes,
        segmentBytes: Int64 = TopicConfiguration().segmentBytes
    ) {
        self.partitions = partitions
        self.compression = compression
        self.durability = durability
        self.cleanupPolicy = cleanupPolicy
        self.retention = retention
        self.retentionBytes = retentionBytes
        self.segmentBytes = segmentBytes
    }

    /// A span in whole milliseconds; a negative one becomes a value ``validate()`` refuses.
    private static func milliseconds(_ span: Duration) -> Int64 {
        span < .zero ? .min : span.wholeMilliseconds
    }

    /// Checks every setting's range; throws ``LogError/Code/invalidArgument`` naming the first bad one.
    public func validate() throws(LogError) {
        func fail(_ m: String) -> LogError { LogError(.invalidArgument, m) }
        guard (1...10_000).contains(partitions) else { throw fail("partitions must be between 1 and 10000, got \(partitions).") }
        guard retentionMs >= -1 else { throw fail("the retention must not be negative.") }
        guard retentionBytes >= -1 else { throw fail("retention_bytes must be -1 or more, got \(retentionBytes).") }
        guard segmentBytes >= 1024 && segmentBytes <= Int64(Int32.max) else {
            throw fail("segment_bytes must be between 1024 and \(Int32.max), got \(segmentBytes).")
        }
        guard segmentMs > 0 else { throw fail("the maximum segment age must be at least a millisecond.") }
        guard indexIntervalBytes > 0 else { throw fail("index_interval_bytes must be positive.") }
        guard deleteRetentionMs >= 0 else { throw fail("the tombstones' retention must not be negative.") }
        guard minCompactionLagMs >= 0, maxCompactionLagMs >= minCompactionLagMs else {
            throw fail("compaction lags must satisfy 0 <= minimum lag <= maximum lag.")
        }
        guard minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1 else {
            throw fail("min_cleanable_dirty_ratio must be between 0 and 1.")
        }
        if case .interval(let period) = durability, period < .milliseconds(1) || period != .milliseconds(period.wholeMilliseconds) {
            throw fail("the durability interval must be a whole number of milliseconds, 1 or more.")
        }
        guard maxBatchBytes > 0 else { throw fail("max_batch_bytes must be positive.") }
        guard !cleanupPolicy.isEmpty else { throw fail("cleanup_policy must be delete, compact or compact,delete.") }
    }
}
