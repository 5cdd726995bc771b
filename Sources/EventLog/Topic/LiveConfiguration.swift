import Synchronization

/// A topic's configuration as it is now: one instance shared by the ``Topic`` and each of its
/// partitions, replaced as a whole by ``LogStore/alterTopic(named:_:)``.
///
/// The settings an alter cannot change are plain constants, read without synchronization on
/// the append and read paths: the compression codec, the segment size and
/// age, the index interval, the batch limit, and whether the topic is internal. Of the settings
/// it can change, the writer's durability and the readers' "compaction may have left gaps"
/// are atomics (one load per append or read, no lock); the cleaner's settings (cleanup
/// policy, retention, compaction lags) are read as a whole, under a lock, once per pass.
final class LiveConfiguration: Sendable {
    /// The codec new batches are compressed with.
    let compression: CompressionCodec
    /// The active segment rolls once it would grow past this many bytes.
    let segmentBytes: Int64
    /// The active segment rolls once its first record is this many milliseconds old.
    let segmentMs: Int64
    /// An index entry every this many bytes of log.
    let indexIntervalBytes: Int
    /// The largest batch one append may write.
    let maxBatchBytes: Int
    /// Whether the topic is internal (``TopicConfiguration/isInternal``).
    let isInternal: Bool

    private let settings: Mutex<TopicConfiguration>
    /// The durability, encoded (``code(_:)``): read by every append.
    private let durabilityCode: Atomic<Int64>
    /// Whether compaction may have left gaps between offsets (``mayHaveOffsetGaps``).
    private let offsetGaps: Atomic<Bool>

    /// - Parameters:
    ///   - configuration: the settings.
    ///   - offsetGaps: whether the topic's `topic.conf` says it was compacted before
    ///     (``TopicConfiguration/decodeFile(_:path:)``); a policy with `compact` implies it.
    init(_ configuration: TopicConfiguration, offsetGaps: Bool = false) {
        compression = configuration.compression
        segmentBytes = configuration.segmentBytes
        segmentMs = configuration.segmentMs
        indexIntervalBytes = configuration.indexIntervalBytes
        maxBatchBytes = configuration.maxBatchBytes
        isInternal = configuration.isInternal
        settings = Mutex(configuration)
        durabilityCode = Atomic(Self.code(configuration.durability))
        self.offsetGaps = Atomic(offsetGaps || configuration.cleanupPolicy.contains(.compact))
    }

    /// Every setting, as it is now (a lock: for the cleaner's passes and descriptions, not for
    /// the append path).
    var current: TopicConfiguration { settings.withLock { $0 } }

    /// When appends are acknowledged, as it is now (an atomic load).
    var durability: Durability { Self.durability(durabilityCode.load(ordering: .acquiring)) }

    /// Whether compaction may have left gaps between the offsets of this topic's batches:
    /// once `compact` was in its cleanup policy, for good (compacted segments keep their gaps
    /// after compaction is turned off), so reads check offsets for density only before.
    var mayHaveOffsetGaps: Bool { offsetGaps.load(ordering: .acquiring) }

    /// Makes `configuration` the current one. Only the settings ``LogStore/alterTopic(named:_:)``
    /// lets change may differ from the constants (the partition count is the ``Topic``'s: it
    /// adds the partitions before it replaces the settings).
    ///
    /// Gaps become possible before the cleaner can see a policy with `compact` (readers never
    /// check for density where compaction may have been): the flag is set first.
    func replace(with configuration: TopicConfiguration) {
        if configuration.cleanupPolicy.contains(.compact) { offsetGaps.store(true, ordering: .releasing) }
        settings.withLock { $0 = configuration }
        durabilityCode.store(Self.code(configuration.durability), ordering: .releasing)
    }

    /// `fsync` is 0, `none` -1, `interval` its period in milliseconds (1 or more).
    private static func code(_ durability: Durability) -> Int64 {
        switch durability {
        case .fsync: 0
        case .none: -1
        case .interval(let period): max(1, period.wholeMilliseconds)
        }
    }

    private static func durability(_ code: Int64) -> Durability {
        switch code {
        case 0: .fsync
        case -1: .none
        default: .interval(.milliseconds(code))
        }
    }
}
