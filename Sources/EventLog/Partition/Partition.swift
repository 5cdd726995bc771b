import Logging
import Synchronization

/// One partition of a topic: an ordered, durable sequence of records, stored as segments.
///
/// Appends from any number of tasks are written by one writer at a time: on the store's I/O
/// threads, or, with `none` or `interval` durability and an idle writer, by the appending task
/// itself. With `fsync` durability every append waiting when a sync starts is
/// acknowledged by that one `fdatasync(2)` (group commit). Readers never block the writer:
/// they read with `pread(2)` up to the last published byte.
public final class Partition: Sendable {
    /// The name of the topic this partition belongs to.
    public let topicName: String
    /// The partition's number within its topic, from 0.
    public let index: Int

    let directory: String
    /// The topic's settings, shared with it and its other partitions: constants for those an
    /// alter cannot change, the current value for the others (``LiveConfiguration``).
    let configuration: LiveConfiguration
    /// Whether the topic is internal: ``append(_:producer:)`` refuses clients' writes.
    let isInternal: Bool
    let executor: IOExecutor
    let logger: Logger
    let faults: FaultInjector?
    let clock: Clock
    let state: Mutex<State>
    let scratch = WriterScratch()
    /// The damaged ranges reads met (Partition+Damage.swift).
    let damage = Mutex(DamageRegister())
    /// The cleaner's state (short critical sections only; passes run one at a time, see ``passes``).
    let maintenance = Mutex<CleanerState>(CleanerState())
    /// Which retention and compaction passes are queued or running (Partition+Passes.swift).
    let passes = Mutex<PassSchedule>(PassSchedule())

    /// The least time between two background writes of the recovery checkpoint.
    static let checkpointIntervalMs: Int64 = 1000

    /// A source of wall-clock milliseconds (replaced in retention tests).
    struct Clock: Sendable {
        var now: @Sendable () -> Int64 = { FileSystem.nowMilliseconds() }
    }

    struct PendingAppend: Sendable {
        var batch: EncodedBatch
        /// `nil` for the batch an inline writer is writing itself.
        var continuation: AppendWaiter?
    }

    /// Who waits for a queued append's result: a task, or a callback (called on the thread
    /// that decides the result).
    enum AppendWaiter: Sendable {
        case task(CheckedContinuation<OffsetRange, any Error>)
        case callback(@Sendable (Result<OffsetRange, any Error>) -> Void)

        func resume(with result: Result<OffsetRange, any Error>) {
            switch self {
            case .task(let continuation): continuation.resume(with: result)
            case .callback(let callback): callback(result)
            }
        }

        func resume(throwing error: any Error) { resume(with: .failure(error)) }
    }

    struct Waiter: Sendable {
        var offset: Int64
        var wakeup: Wakeup
    }

    struct State: Sendable {
        /// Segments in base-offset order; the last is the active one.
        var segments: [Segment]
        var startOffset: Int64
        /// The offset the next appended record gets: one past the last batch written.
        var nextOffset: Int64
        /// The active segment's bytes up to `nextOffset`: set together with it, so that a
        /// sync outside the writer records a durable point whose position and offset agree.
        var writtenPosition: Int64
        /// The offset after the last record readers may see.
        var visibleEnd: Int64
        var pending: [PendingAppend] = []
        /// Someone holds the writer role: a job on the I/O threads, or an inline appender.
        var writerScheduled = false
        /// Resumed when the writer goes idle (close).
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
        var closed = false
        var producers = ProducerStateTable()
        /// Readers waiting for records; an entry leaves when its wait ends, whatever ended it.
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiterID: UInt64 = 0
        /// What is known to be on stable storage.
        var durable: RecoveryCheckpoint
        /// The checkpoint last written to disk, and when.
        var lastCheckpoint: RecoveryCheckpoint?
        var lastCheckpointWriteMs: Int64 = 0
        /// Bytes written since the last sync (interval and none durability).
        var dirty = false
        var lastSyncMs: Int64 = 0
        /// Set once a sync failed or a failed write could not be cut back: appends are
        /// refused until the store is reopened (``Partition/writeFailure``).
        var writeFailure: LogError?
        var statistics = Statistics()

        /// Takes every queued append (for the writer).
        mutating func takePending() -> [PendingAppend] {
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }

        /// Lets the writer role go; returns the closes waiting for that, to resume outside the lock.
        mutating func releaseWriterRole() -> [CheckedContinuation<Void, Never>] {
            writerScheduled = false
            defer { drainWaiters.removeAll() }
            return drainWaiters
        }
    }

    /// Counters of a partition's write path since it was opened.
    public struct Statistics: Sendable, Hashable {
        /// Records appended (acknowledged).
        public var appendedRecords: Int64 = 0
        /// Bytes of batches appended.
        public var appendedBytes: Int64 = 0
        /// Appends (batches) acknowledged.
        public var appendedBatches: Int64 = 0
        /// `fdatasync(2)` calls made by the writer for acknowledgements.
        public var syncs: Int64 = 0
        /// Batches acknowledged by those syncs: divided by ``syncs``, the average group size.
        public var batchesSynced: Int64 = 0
        /// Writes of appended batches to the log (`pwritev(2)` calls, each of one or more
        /// batches): ``appendedBatches`` divided by this is the average number written together.
        public var writes: Int64 = 0
    }

    /// The write path's counters.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    init(topicName: String, index: Int, directory: String, configuration: LiveConfiguration,
         executor: IOExecutor, logger: Logger, faults: FaultInjector?, clock: Clock, state: State) {
        self.topicName = topicName
        self.index = index
        self.directory = directory
        self.configuration = configuration
        self.isInternal = configuration.isInternal || LogStore.isInternalTopicName(topicName)
        self.executor = executor
        var logger = logger
        logger[metadataKey: "partition"] = "\(topicName)/\(index)"
        self.logger = logger
        self.faults = faults
        self.clock = clock
        self.state = Mutex(state)
    }

    // MARK: Facts

    /// The offset of the oldest record retained.
    public var startOffset: Offset { Offset(state.withLock { $0.startOffset }) }

    /// The offset the next record will get: one past the last record readers can see.
    public var endOffset: Offset { Offset(state.withLock { $0.visibleEnd }) }

    /// The bytes of all segment files of the partition.
    public var sizeInBytes: Int64 {
        let segments = state.withLock { $0.segments }
        return segments.reduce(0) { $0 + $1.size }
    }

    /// How many segments the partition has.
    public var segmentCount: Int { state.withLock { $0.segments.count } }

    /// A segment's facts, as ``Partition/segments()`` lists them.
    public struct SegmentInfo: Sendable, Hashable {
        /// The offset the segment's file is named after.
        public var baseOffset: Offset
        /// The offset after its last record.
        public var endOffset: Offset
        /// The `.log` file's size in bytes.
        public var sizeInBytes: Int64
        /// The largest timestamp in it, or `nil` when empty.
        public var maxTimestamp: Int64?
        /// Whether it is the segment being written.
        public var isActive: Bool
    }

    /// The segments, oldest first.
    public func segments() -> [SegmentInfo] {
        let segments = state.withLock { $0.segments }
        return segments.enumerated().map { i, s in
            let ts = s.maxTimestamp
            return SegmentInfo(baseOffset: Offset(s.baseOffset), endOffset: Offset(s.visibleNextOffset),
                               sizeInBytes: s.size, maxTimestamp: ts == .min ? nil : ts,
                               isActive: i == segments.count - 1)
        }
    }

    /// Wakes the waiters whose offset is now readable; call outside the lock with what it returns.
    static func takeReadyWaiters(_ s: inout State) -> [Wakeup] {
        guard !s.waiters.isEmpty else { return [] }
        var ready: [Wakeup] = []
        for (id, w) in s.waiters where w.offset < s.visibleEnd || s.closed {
            ready.append(w.wakeup)
            s.waiters[id] = nil
        }
        return ready
    }
}

/// The writer's reusable state. Only the partition's single writer job touches it.
final class WriterScratch: @unchecked Sendable {
    /// The base offsets of the batches of a run, big-endian, as `pwritev(2)` writes them.
    var baseOffsets: [Int64] = []
    /// The writer's idle spin: how much it is worth spinning, and a drain counter.
    var spinCredit = 8
    var drains = 0
}
