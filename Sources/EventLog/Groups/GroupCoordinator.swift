public import Logging

/// Consumer groups over a ``LogStore``: durable committed positions, members, partition
/// assignment with generations (fencing), session expiry, group reads and lag.
///
/// ```swift
/// let groups = try await GroupCoordinator.open(store: store, logger: logger)
/// let me = try await groups.join("billing", topics: ["orders"], sessionTimeout: .seconds(10))
/// let batch = try await groups.fetch("billing", member: me.memberID, maxRecords: 100)
/// // … process batch.records …
/// try await groups.commit(batch.positions, for: "billing",
///                         by: GroupMemberGeneration(memberID: me.memberID, generation: me.generation))
/// ```
///
/// Commits are records of the internal, compacted topic ``offsetsTopicName`` (key = group,
/// topic and partition; value = offset and metadata; a tombstone deletes), appended with
/// `fsync` durability: a commit returns once it is on stable storage, and the log's own
/// recovery and compaction keep it. ``open(store:options:logger:)`` replays that topic.
///
/// Membership is in memory: after a restart members join again. Group coordination is
/// low-rate, so this is an actor. Sessions expire without polling: one timer task sleeps until
/// the earliest deadline, and every group operation also checks deadlines first.
public actor GroupCoordinator {
    /// The name of the internal topic that holds commits (Kafka's `__consumer_offsets`).
    public static let offsetsTopicName = "__consumer_offsets"

    /// How a coordinator runs.
    public struct Options: Sendable {
        /// The strategy of groups whose first member names none.
        public var defaultStrategy: AssignmentStrategy = .sticky
        /// The shortest session timeout a member may ask for.
        public var minSessionTimeout: Duration = .milliseconds(10)
        /// The longest session timeout a member may ask for.
        public var maxSessionTimeout: Duration = .seconds(3600)
        /// Segment size of the offsets topic: small, so that compaction finds closed segments.
        public var offsetsSegmentBytes: Int64 = 16 << 20
        /// How long the commits of a group without members are kept after its newest commit
        /// (and after its last member left); `nil` keeps them forever. Kafka's
        /// `offsets.retention.minutes`, default 7 days.
        public var offsetsRetention: Duration? = .seconds(7 * 24 * 3600)
        /// How often expired commits are looked for (Kafka's `offsets.retention.check.interval.ms`;
        /// at least 10 ms).
        public var offsetsRetentionCheckInterval: Duration = .seconds(600)

        /// Groups with members (or member ids handed out) at most, of both kinds; a join that
        /// would start one more gets ``LogError/Code/groupLimitReached``.
        public var maxGroups = 10_000
        /// Members (and member ids handed out) of one group at most.
        public var maxMembersPerGroup = 1_000
        /// The most bytes of protocol metadata one member of a classic group may send, and
        /// the most bytes of one member's assignment.
        public var maxMemberMetadataBytes = 1 << 20
        /// The most bytes of metadata and assignments all classic groups together may hold.
        public var maxClassicGroupBytes = 256 << 20

        /// The defaults: sticky assignment, session timeouts from 10 ms to one hour.
        public init() {}
    }

    /// The store whose topics the groups consume.
    public nonisolated let store: LogStore
    /// The internal topic holding the commits.
    public nonisolated let offsetsTopic: Topic
    let options: Options
    let logger: Logger
    let clock = ContinuousClock()

    /// The commit table: group → partition → position, with the log offset that wrote it.
    /// Bounded by expiry: the commits of a group without members go `offsetsRetention` after
    /// its newest one (Partition+Commits.swift, ``expireCommits()``).
    var commits: [String: [TopicPartition: StoredCommit]] = [:]
    /// Groups with members; a group whose last member leaves or expires is removed.
    var groups: [String: GroupState] = [:]
    /// Groups of the classic rebalance protocol (Kafka clients; GroupCoordinator+Classic.swift),
    /// with members or member ids handed out. A name is in at most one of the two tables.
    var classicGroups: [String: ClassicGroup] = [:]
    /// The bytes ``classicGroups`` hold (``ClassicGroup/storedBytes``), bounded by
    /// ``Options/maxClassicGroupBytes``.
    var classicBytes = 0
    /// Orders classic members and names their waits.
    var classicSequence: UInt64 = 0
    /// When each group without members last had one (ms since the epoch): its commits expire
    /// no earlier than `offsetsRetention` after that. Entries go with the commits' expiry.
    var lastMemberLeft: [String: Int64] = [:]
    var timer: (task: Task<Void, Never>, deadline: ContinuousClock.Instant)?
    /// The periodic search for expired commits.
    var expiryTask: Task<Void, Never>?
    var memberSequence: UInt64 = 0
    var closed = false

    struct StoredCommit: Sendable {
        var committed: CommittedOffset
        /// The offset of the record in the offsets topic; a later one wins.
        var logOffset: Offset
        /// When it was committed (ms since the epoch).
        var committedAt: Int64
    }

    struct Member: Sendable {
        var topics: Set<String>
        var sessionTimeout: Duration
        var deadline: ContinuousClock.Instant
        /// The generation last told to the member (join or heartbeat).
        var knownGeneration: Int
        /// The generation the member acknowledged by heartbeating again after learning it.
        var syncedGeneration: Int
        var resetPolicy: OffsetResetPolicy
        /// Group-read positions; cleared when the member learns a new generation.
        var positions: [TopicPartition: Offset] = [:]
        /// Where the next group read starts among the member's partitions (fairness).
        var nextPartitionTurn = 0
    }

    struct GroupState: Sendable {
        var generation = 0
        var strategy: AssignmentStrategy
        var members: [MemberID: Member] = [:]
        var assignment: [MemberID: [TopicPartition]] = [:]
        var partitions: [TopicPartition] = []

        var rebalancing: Bool { members.values.contains { $0.syncedGeneration < generation } }
    }

    private init(store: LogStore, offsetsTopic: Topic, options: Options, logger: Logger) {
        self.store = store
        self.offsetsTopic = offsetsTopic
        self.options = options
        self.logger = logger
    }

    /// Opens the coordinator of `store`: creates the offsets topic when missing and replays it
    /// to rebuild the commit table. Damaged commit records are skipped (logged at error level):
    /// their groups fall back to the commit before, or to their reset policy.
    ///
    /// - Throws: an I/O error of the offsets topic.
    public static func open(store: LogStore, options: Options = Options(), logger: Logger) async throws -> GroupCoordinator {
        let topic: Topic
        if let existing = store.topic(named: offsetsTopicName) {
            topic = existing
            if !existing.configuration.isInternal || !existing.configuration.cleanupPolicy.contains(.compact) {
                logger.warning("the offsets topic is not internal and compacted", metadata: ["topic": "\(offsetsTopicName)"])
            }
        } else {
            var configuration = TopicConfiguration(
                partitions: 1, durability: .fsync, cleanupPolicy: .compact, segmentBytes: options.offsetsSegmentBytes)
            configuration.isInternal = true
            topic = try await store.topic(named: offsetsTopicName, creatingWith: configuration)
        }
        let coordinator = GroupCoordinator(store: store, offsetsTopic: topic, options: options, logger: logger)
        try await coordinator.replay()
        await coordinator.startCommitExpiry()
        return coordinator
    }

    /// Reads the offsets topic from its start: the latest record per key wins; a tombstone deletes.
    private func replay() async throws {
        var records = 0
        for partition in offsetsTopic.partitions {
            let end = partition.endOffset
            var next = partition.startOffset
            while next < end {
                let read: Partition.ReadResult
                do {
                    read = try await partition.read(from: next, maxRecords: 10_000)
                } catch let error as LogError where error.code == .corruptData && error.range != nil {
                    // Commits stored there are lost: their groups fall back to an earlier commit
                    // of the same partition, if any (re-reading, never skipping records).
                    logger.error("skipping damaged consumer group commits", metadata: [
                        "first": "\(error.range!.first)", "end": "\(error.range!.end)",
                    ])
                    next = error.range!.end
                    continue
                }
                for stored in read.records {
                    records += 1
                    guard let commit = OffsetCommitRecord(stored) else {
                        logger.warning("skipping an offsets record this version cannot read", metadata: ["offset": "\(stored.offset)"])
                        continue
                    }
                    apply(commit, at: stored.offset)
                }
                if read.nextOffset <= next { break }
                next = read.nextOffset
            }
        }
        logger.info("replayed consumer group commits", metadata: [
            "records": "\(records)", "groups": "\(commits.count)",
        ])
    }

    /// Applies one commit record written at `logOffset`, unless a later one is already applied.
    func apply(_ commit: OffsetCommitRecord, at logOffset: Offset) {
        if let current = commits[commit.group]?[commit.topicPartition], current.logOffset > logOffset { return }
        if let committed = commit.committed {
            commits[commit.group, default: [:]][commit.topicPartition] = StoredCommit(
                committed: committed, logOffset: logOffset, committedAt: commit.committedAt ?? currentMilliseconds())
        } else {
            commits[commit.group]?[commit.topicPartition] = nil
            if commits[commit.group]?.isEmpty == true { commits[commit.group] = nil }
        }
    }

    /// Stops the session timer. Commits are already durable; membership is not kept.
    public func close() {
        closed = true
        for name in Array(classicGroups.keys) {
            classicGroups[name]!.abandonAll(LogError(.closed, "the group coordinator is closed."))
        }
        classicGroups.removeAll()
        classicBytes = 0
        timer?.task.cancel()
        timer = nil
        expiryTask?.cancel()
        expiryTask = nil
        groups.removeAll()
    }

    // MARK: Names

    /// Checks a group name: 1 to 249 characters of `[A-Za-z0-9._-]`, not `.` or `..` (the
    /// topic naming rule).
    ///
    /// - Throws: ``LogError/Code/invalidGroupName``.
    public static func validateGroupName(_ name: String) throws(LogError) {
        do {
            try LogStore.validateTopicName(name)
        } catch {
            throw LogError(.invalidGroupName, "a group name must be 1 to 249 characters of A-Z, a-z, 0-9, '.', '_' and '-', and not '.' or '..'.")
        }
    }

    func checkOpen() throws(LogError) {
        if closed { throw LogError(.closed, "the group coordinator is closed.") }
    }

    /// Whether the group has commits or members.
    public func exists(_ group: String) -> Bool {
        commits[group] != nil || groups[group]?.members.isEmpty == false || classicGroups[group]?.members.isEmpty == false
    }

    /// The names of every group with commits or members, sorted.
    public func groupNames() -> [String] {
        Set(commits.keys).union(groups.filter { !$0.value.members.isEmpty }.keys)
            .union(classicGroups.filter { !$0.value.members.isEmpty }.keys).sorted()
    }
}
