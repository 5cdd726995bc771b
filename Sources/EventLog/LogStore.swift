#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif
public import Logging
import Synchronization

/// A data directory of topics: the entry point of the library.
///
/// ```swift
/// let store = try await LogStore.open(at: "/var/lib/app/log", logger: logger)
/// let orders = try await store.topic(named: "orders", creatingWith: TopicConfiguration(partitions: 3))
/// let placed = try await orders.append([Record(key: "order-17", value: "placed")])
/// for try await event in orders.records(from: .earliest) { … }
/// try await store.close()
/// ```
///
/// Layout: `<dir>/.lock` (held with `flock(2)` while open), `<dir>/.clean-shutdown` (present
/// only between a clean close and the next open), `<dir>/topics/<topic>/topic.conf` and
/// `<dir>/topics/<topic>/<partition>/<segments>`. See Docs/FORMAT.md.
public final class LogStore: Sendable {
    /// How a store runs.
    public struct Options: Sendable {
        /// The settings of topics created without any (such as by the server's auto-creation).
        public var defaultTopicConfiguration = TopicConfiguration()
        /// Threads for blocking file I/O, shared by every partition's writer and readers.
        /// Retention and compaction passes run on one more thread of their own, so that they
        /// never hold a thread the append path needs.
        public var ioThreads = 4
        /// How often the background flusher runs (interval durability, recovery checkpoints);
        /// 100 ms by default, at least 1 ms.
        public var flushInterval: Duration = .milliseconds(100)
        /// How often the background cleaner applies retention and picks a partition to compact
        /// (15 s by default); `nil` turns the background cleaner off (on-demand passes still work).
        public var cleanerInterval: Duration? = .seconds(15)
        /// The cleaner's memory budget and I/O throttle (`cleanerBytesPerSecond`).
        public var compaction = CompactionLimits()
        /// The most partitions the store holds, over all its topics (internal topics, the
        /// library's own state, not counted and never refused); `nil` for no bound.
        ///
        /// Each partition holds at least one open descriptor (its active segment's log; see
        /// Docs/OPERATIONS.md), so this bounds what clients that may create and grow topics make
        /// the process hold, and the topics themselves (each has at least one partition). A
        /// creation (``LogStore/createTopic(named:configuration:maxTopics:)``,
        /// ``LogStore/topic(named:creatingWith:maxTopics:)``) or growth
        /// (``LogStore/alterTopic(named:_:)``) that would pass it fails with
        /// ``LogError/Code/partitionLimitReached`` and changes nothing; creations and growths
        /// under way count. Topics already on disk open whatever their count.
        public var maxPartitions: Int?
        /// Fault injection for tests.
        package var faults: FaultInjector?
        /// The wall clock, replaceable in tests.
        var clock = Partition.Clock()

        /// The defaults.
        public init() {}
    }

    /// The data directory.
    public let directory: String
    let options: Options
    let logger: Logger
    let executor: IOExecutor
    /// `<dir>/.lock`, held with `flock(2)` while the store is open.
    private let lockFile: FileHandle
    let state: Mutex<StoreState>
    private let flusher: Mutex<PeriodicThread?> = Mutex(nil)
    private let cleaner: Mutex<PeriodicThread?> = Mutex(nil)
    /// Whether a background cleaner run is queued on the maintenance lane (at most one is).
    private let cleanerRunQueued = Atomic<Bool>(false)
    /// Held by the flusher while it writes partitions' files, and by a delete while it moves a
    /// topic's directory away: a tick that saw the topic before the delete never writes into
    /// a directory of the same name created afterwards.
    private let flushGate = Mutex(())
    /// Whether the last shutdown was clean (no recovery scan was needed).
    public let openedAfterCleanShutdown: Bool

    struct StoreState: Sendable {
        var topics: [String: Topic] = [:]
        var closed = false
        /// The close in progress or done: every `close()` awaits this one.
        var closing: Task<Void, any Error>?
        /// Names being created, altered or deleted right now, with the tasks waiting for that
        /// to end: a create, an alter and a delete of one name never overlap.
        var busyNames: [String: NameWork] = [:]
    }

    /// A create, alter or delete of a topic name under way.
    struct NameWork: Sendable {
        enum Kind: Sendable { case creating, altering, deleting }
        var kind: Kind
        /// The partitions a creation or growth under way adds, counted against
        /// ``Options/maxPartitions`` until it ends.
        var addedPartitions = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Checks that the store may hold `added` more partitions (``Options/maxPartitions``);
    /// `action` says, in the error's sentence, what did not happen.
    func checkPartitionLimit(_ s: StoreState, adding added: Int, _ action: @autoclosure () -> String) throws(LogError) {
        guard let maxPartitions = options.maxPartitions else { return }
        let held = s.topics.values.reduce(0) { $0 + ($1.isInternal ? 0 : $1.partitionCount) }
            + s.busyNames.values.reduce(0) { $0 + $1.addedPartitions }
        if held + added > maxPartitions {
            throw LogError(.partitionLimitReached, "\(action()): the store holds \(held) partitions, and \(added) more would pass the \(maxPartitions) allowed.")
        }
    }

    static let cleanMarker = ".clean-shutdown"
    var topicsDirectory: String { directory + "/topics" }

    private init(directory: String, options: Options, logger: Logger, lockFile: FileHandle, clean: Bool) {
        self.directory = directory
        self.options = options
        self.logger = logger
        self.lockFile = lockFile
        self.openedAfterCleanShutdown = clean
        self.executor = IOExecutor(threadCount: options.ioThreads, maintenanceThreads: 1)
        self.state = Mutex(StoreState())
    }

    /// Opens (creating when missing) a data directory and every topic in it.
    ///
    /// Takes an exclusive `flock(2)` on `<dir>/.lock`: a second opener, in this process or
    /// another, fails with ``LogError/Code/locked``. After a clean close nothing is scanned;
    /// after a crash each partition recovers from its checkpoint (see ``Partition``).
    public static func open(at directory: String, options: Options = Options(), logger: Logger) async throws -> LogStore {
        let directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let faults = options.faults
        try FileSystem.createDirectory(directory + "/topics", faults: faults)
        let lockPath = directory + "/.lock"
        let lockFile = try FileHandle.open(lockPath, create: true, faults: faults)
        guard try lockFile.tryLockExclusively() else {
            throw LogError(.locked, "the data directory \(directory) is locked by another process (\(lockPath)); only one may open it.")
        }
        // The holder's pid, for operators; the lock itself is what counts, so a failure to
        // write it is only worth a warning.
        do {
            try lockFile.truncate(to: 0)
            try lockFile.write(Array("\(getpid())\n".utf8), at: 0)
        } catch {
            logger.warning("could not write the pid into the lock file", metadata: ["error": "\(error)"])
        }

        let markerPath = directory + "/" + cleanMarker
        let clean = FileSystem.exists(markerPath)
        let store = LogStore(directory: directory, options: options, logger: logger, lockFile: lockFile, clean: clean)
        do {
            try await store.executor.run {
                try store.loadTopics(cleanShutdown: clean)
                store.emptyTrash()
                // From here on a crash is unclean again.
                try FileSystem.remove(markerPath)
                try FileSystem.syncDirectory(directory, faults: faults)
            }
        } catch {
            store.executor.shutdown()
            lockFile.unlock()
            throw error
        }
        store.startFlusher()
        logger.info("opened data directory", metadata: [
            "directory": "\(directory)", "clean": "\(clean)", "topics": "\(store.state.withLock { $0.topics.count })",
        ])
        return store
    }

    /// Removes what a topic deletion left in `trash/` when the process died between moving the
    /// topic there and removing it: deleted topics never come back, and their bytes do not
    /// stay on the disk for ever. A failure is logged, not fatal (the next open tries again).
    private func emptyTrash() {
        let trash = directory + "/trash"
        guard FileSystem.isDirectory(trash), let leftovers = try? FileSystem.list(trash), !leftovers.isEmpty else { return }
        do {
            for name in leftovers { try FileSystem.removeTree(trash + "/" + name) }
            logger.notice("removed topics whose deletion a crash interrupted", metadata: ["count": "\(leftovers.count)"])
        } catch {
            logger.warning("could not empty the trash directory", metadata: ["error": "\(error)"])
        }
    }

    private func loadTopics(cleanShutdown: Bool) throws {
        for name in try FileSystem.list(topicsDirectory) {
            let dir = topicsDirectory + "/" + name
            guard FileSystem.isDirectory(dir), (try? Self.validateTopicName(name)) != nil else { continue }
            // What a crash left of a write of topic.conf that did not get renamed into place.
            try FileSystem.remove(dir + "/topic.conf.tmp")
            guard let bytes = try FileSystem.readFile(dir + "/topic.conf") else {
                // A creation a crash interrupted before its commit point (topic.conf) left no
                // record: it was never acknowledged, and goes. A directory that holds records
                // lost its topic.conf some other way (an operator, a damaged disk): kept as it
                // is, for the operator to restore.
                if try FileSystem.holdsNoLogBytes(dir) {
                    logger.notice("removing a topic whose creation a crash interrupted", metadata: ["topic": "\(name)"])
                    try FileSystem.removeTree(dir)
                    try FileSystem.syncDirectory(topicsDirectory, faults: options.faults)
                } else {
                    logger.warning("ignoring a topic directory that holds records but has no topic.conf", metadata: ["topic": "\(name)"])
                }
                continue
            }
            let (configuration, offsetGaps, createdPartitions) = try TopicConfiguration.decodeFile(bytes, path: dir + "/topic.conf")
            // Partition directories past the count (a growth a crash interrupted before its
            // topic.conf was renamed into place) are left as they are: nothing was appended to
            // them, and the next growth opens them again.
            let topic = try openTopic(name: name, configuration: LiveConfiguration(configuration, offsetGaps: offsetGaps),
                                      createdPartitions: createdPartitions, cleanShutdown: cleanShutdown)
            state.withLock { $0.topics[name] = topic }
        }
    }

    private func openTopic(name: String, configuration: LiveConfiguration, createdPartitions: Int? = nil,
                           cleanShutdown: Bool) throws -> Topic {
        let dir = topicsDirectory + "/" + name
        let partitions = try openPartitions(0..<configuration.current.partitions, of: name, directory: dir,
                                            configuration: configuration, cleanShutdown: cleanShutdown)
        return Topic(name: name, configuration: configuration, partitions: partitions, directory: dir,
                     createdPartitionCount: createdPartitions)
    }

    /// Makes the new partitions `range` of a topic durable: their directories, one after the
    /// other (they share a parent, whose lock concurrent `mkdir(2)`s would fight over); then,
    /// from several threads at once (``ThreadFanOut``), each partition's files
    /// (``Partition/create(topicName:index:directory:configuration:executor:logger:faults:clock:inNewDirectory:)``,
    /// which syncs nothing; a directory that existed already is opened as it is), then a sync
    /// of each partition's directory; last one sync of the topic's directory for their entries.
    /// The caller's commit point (the write of `topic.conf`) comes after. Made before the
    /// syncs, the creations share the file system's journal commits (the first sync commits
    /// most of them) instead of each waiting behind another partition's sync. On a failure,
    /// the partitions made are closed and their directories removed.
    func makePartitions(_ range: Range<Int>, of name: String, directory: String,
                        configuration: LiveConfiguration) throws(LogError) -> [Partition] {
        let made = Mutex<[Partition?]>(Array(repeating: nil, count: range.count))
        let (executor, logger, faults, clock) = (executor, logger, options.faults, options.clock)
        do {
            var madeDirectories: [Bool] = []
            for index in range { madeDirectories.append(try FileSystem.makeDirectory(directory + "/" + String(index), faults: faults)) }
            let fresh = madeDirectories
            try ThreadFanOut.run(count: range.count) { k throws(LogError) in
                let path = directory + "/" + String(range.lowerBound + k)
                let partition = try Partition.create(
                    topicName: name, index: range.lowerBound + k, directory: path, configuration: configuration,
                    executor: executor, logger: logger, faults: faults, clock: clock, inNewDirectory: fresh[k])
                made.withLock { $0[k] = partition }
            }
            try ThreadFanOut.run(count: range.count) { k throws(LogError) in
                try FileSystem.syncDirectory(directory + "/" + String(range.lowerBound + k), faults: faults)
            }
            CrashPoints.hit("partitions.made")
            try FileSystem.syncDirectory(directory, faults: faults)
            CrashPoints.hit("partitions.synced")
            return made.withLock { $0.map { $0! } }
        } catch {
            for partition in made.withLock({ $0 }) { partition?.closeAbandoned() }
            for index in range { try? FileSystem.removeTree(directory + "/" + String(index)) }
            throw error
        }
    }

    /// Opens (creating when missing) the partitions `range` of a topic.
    func openPartitions(_ range: Range<Int>, of name: String, directory: String, configuration: LiveConfiguration,
                        cleanShutdown: Bool) throws(LogError) -> [Partition] {
        var partitions: [Partition] = []
        for i in range {
            partitions.append(try Partition.open(
                topicName: name, index: i, directory: directory + "/" + String(i), configuration: configuration,
                executor: executor, logger: logger, faults: options.faults, clock: options.clock, cleanShutdown: cleanShutdown))
        }
        return partitions
    }

    private func startFlusher() {
        let thread = PeriodicThread(intervalMs: Int(max(1, options.flushInterval.wholeMilliseconds))) { [weak self] in
            self?.flushTick()
        }
        flusher.withLock { $0 = thread }
        if let interval = options.cleanerInterval.map({ Int(max(1, $0.wholeMilliseconds)) }) {
            // The timer only queues a run on the maintenance lane, where on-demand passes run
            // too: passes never overlap and never hold the threads appends use.
            let cleanerThread = PeriodicThread(intervalMs: interval) { [weak self] in
                guard let self, !self.cleanerRunQueued.exchange(true, ordering: .acquiringAndReleasing) else { return }
                let lane = self.executor.maintenanceLane ?? self.executor
                if !lane.submit({ [weak self] in
                    self?.cleanerTick()
                    self?.cleanerRunQueued.store(false, ordering: .releasing)
                }) {
                    self.cleanerRunQueued.store(false, ordering: .releasing)
                }
            }
            cleaner.withLock { $0 = cleanerThread }
        }
    }

    /// Applies retention everywhere, then compacts the partition with the highest dirty
    /// ratio above its topic's `minCleanableDirtyRatio` (or one whose `maxCompactionLagMs`
    /// passed, or whose kept tombstones expired). Runs on the maintenance lane.
    private func cleanerTick() {
        let topics = state.withLock { s in s.closed ? [] : Array(s.topics.values) }
        let now = options.clock.now()
        var best: (Partition, Double)?
        for topic in topics {
            // The settings as the tick starts: an alter made meanwhile applies from the next one.
            let configuration = topic.configuration
            for p in topic.partitions where !p.isClosed {
                do {
                    if configuration.cleanupPolicy.contains(.delete) { _ = try p.applyRetentionBlocking(now: now) }
                } catch LogError.Code.closed {
                    continue
                } catch {
                    logger.error("retention failed", metadata: ["partition": "\(p.topicName)/\(p.index)", "error": "\(error)"])
                }
                guard configuration.cleanupPolicy.contains(.compact) else { continue }
                let ratio = p.dirtyRatio
                let due = ratio >= configuration.minCleanableDirtyRatio && ratio > 0 || p.compactionOverdue(now: now)
                    || p.tombstonesExpired(now: now)
                if due && ratio > (best?.1 ?? -1) { best = (p, ratio) }
            }
        }
        if let (p, _) = best {
            do { _ = try p.compactBlocking(now: now, limits: options.compaction) } catch LogError.Code.closed {
                // Its topic was deleted meanwhile.
            } catch {
                logger.error("compaction failed", metadata: ["partition": "\(p.topicName)/\(p.index)", "error": "\(error)"])
            }
        }
    }

    /// Syncs partitions whose interval came due and writes moved recovery checkpoints.
    private func flushTick() {
        let topics = state.withLock { Array($0.topics.values) }
        let now = options.clock.now()
        flushGate.withLock { _ in
            for topic in topics {
                // A closed partition wrote its last checkpoint; a deleted one's files are going.
                for p in topic.partitions where !p.isClosed {
                    do {
                        if p.syncDue(now: now) { try p.syncNow() }
                        try p.writeCheckpointIfChanged(force: false, now: now)
                    } catch {
                        logger.error("background sync failed", metadata: ["partition": "\(p.topicName)/\(p.index)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    // MARK: Topics

    /// Checks a topic name: 1 to 249 characters of `[A-Za-z0-9._-]`, not `.` or `..`.
    public static func validateTopicName(_ name: String) throws(LogError) {
        let ok = !name.isEmpty && name.utf8.count <= 249 && name != "." && name != ".."
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2e || c == 0x5f || c == 0x2d
            }
        guard ok else {
            throw LogError(.invalidTopicName, "a topic name must be 1 to 249 characters of A-Z, a-z, 0-9, '.', '_' and '-', and not '.' or '..'.")
        }
    }

    /// Whether `name` is reserved for an internal topic: it starts with `__`, as the consumer
    /// offsets topic (``GroupCoordinator/offsetsTopicName``) does.
    public static func isInternalTopicName(_ name: String) -> Bool {
        name.utf8.starts(with: "__".utf8)
    }

    /// Internal topics, and only they, have `__` names: clients cannot make a topic that
    /// passes for one (and is then refused their writes), nor an internal topic under a
    /// client's name.
    private static func checkInternalName(_ name: String, configuration: TopicConfiguration) throws(LogError) {
        let reserved = isInternalTopicName(name)
        if reserved && !configuration.isInternal {
            throw LogError(.internalTopic, "topic names starting with __ are reserved for internal topics; \(name) cannot be created.")
        }
        if !reserved && configuration.isInternal {
            throw LogError(.internalTopic, "an internal topic's name must start with __, not \(name).")
        }
    }

    /// The topic named `name`, or `nil` when there is none. Never creates one.
    public func topic(named name: String) -> Topic? {
        state.withLock { $0.topics[name] }
    }

    /// Every topic, sorted by name; internal ones only when asked.
    public func topics(includeInternal: Bool = false) -> [Topic] {
        state.withLock { s in s.topics.values.filter { includeInternal || !$0.isInternal } }
            .sorted { $0.name < $1.name }
    }

    /// A partition by topic name and number, for numbers from outside.
    ///
    /// - Throws: ``LogError/Code/topicNotFound``, or ``LogError/Code/partitionNotFound`` when
    ///   the topic has no partition of that number.
    public func partition(_ topicPartition: TopicPartition) throws(LogError) -> Partition {
        guard let topic = topic(named: topicPartition.topic) else {
            throw LogError(.topicNotFound, "there is no topic named \(topicPartition.topic).")
        }
        let partitions = topic.partitions
        guard partitions.indices.contains(topicPartition.partition) else {
            throw LogError(.partitionNotFound, "topic \(topic.name) has no partition \(topicPartition.partition) (it has \(partitions.count)).")
        }
        return partitions[topicPartition.partition]
    }

    /// The settings of topics created without settings of their own (``Options/defaultTopicConfiguration``).
    public var defaultTopicConfiguration: TopicConfiguration { options.defaultTopicConfiguration }

    /// The topic named `name`, created with `configuration` when there is none.
    ///
    /// An existing topic is returned as it is, whatever its settings: compare its
    /// ``Topic/configuration`` with yours to detect a conflict. Use
    /// ``createTopic(named:configuration:maxTopics:)`` to fail instead, and
    /// ``topic(named:)`` to look up without creating.
    ///
    /// ```swift
    /// let orders = try await store.topic(named: "orders", creatingWith: TopicConfiguration(partitions: 3))
    /// let events = try await store.topic(named: "events", creatingWith: store.defaultTopicConfiguration)
    /// ```
    ///
    /// - Parameters:
    ///   - name: the topic's name (see ``createTopic(named:configuration:maxTopics:)``).
    ///   - configuration: the settings of the topic if this call creates it.
    ///   - maxTopics: create only while the store holds fewer topics than this (internal
    ///     topics not counted; creations under way counted), as a bound on what auto-creation
    ///     may grow; `nil` for no bound. An existing topic is returned whatever the count.
    /// - Returns: the topic, existing or new.
    /// - Throws: as ``createTopic(named:configuration:maxTopics:)``, except ``LogError/Code/topicExists``.
    public func topic(named name: String, creatingWith configuration: TopicConfiguration, maxTopics: Int? = nil) async throws -> Topic {
        if let topic = topic(named: name) { return topic }
        return try await create(name, configuration: configuration, maxTopics: maxTopics, failIfExists: false)
    }

    /// Creates a topic; fails when one of that name exists.
    ///
    /// A create waits while the same name is being deleted (and the reverse), so a topic
    /// made again under a deleted name gets fresh files, never the old ones' fate.
    ///
    /// The partitions' directories and empty files are made first and synced together (a
    /// sync of each partition's directory, from several threads at once, then one of the
    /// topic's), then `topic.conf` is written atomically: the commit point. A crash before it
    /// leaves no topic (the next open removes the directory); once this returns, the topic
    /// and all its partitions survive a power cut.
    ///
    /// - Parameters:
    ///   - name: 1 to 249 characters of `[A-Za-z0-9._-]`, not `.` or `..`
    ///     (``validateTopicName(_:)``). Names starting with `__` are reserved for internal
    ///     topics (``TopicConfiguration/isInternal``).
    ///   - configuration: the topic's settings: fixed from now on, except those
    ///     ``alterTopic(named:_:)`` changes (durability, cleanup policy, retention, compaction).
    ///   - maxTopics: create only while the store holds fewer topics than this (internal
    ///     topics not counted; creations under way counted); `nil` for no bound.
    /// - Returns: the new topic.
    /// - Throws: ``LogError/Code/topicExists`` when a topic of that name exists;
    ///   ``LogError/Code/invalidTopicName``; ``LogError/Code/internalTopic`` for a `__` name
    ///   whose configuration is not internal (or the reverse); ``LogError/Code/invalidArgument``
    ///   for a bad setting; ``LogError/Code/topicLimitReached``;
    ///   ``LogError/Code/partitionLimitReached`` when the store would hold more partitions than
    ///   ``Options/maxPartitions``; ``LogError/Code/closed``; or an I/O error, after which
    ///   nothing of the topic is left.
    @discardableResult
    public func createTopic(named name: String, configuration: TopicConfiguration, maxTopics: Int? = nil) async throws -> Topic {
        try await create(name, configuration: configuration, maxTopics: maxTopics, failIfExists: true)
    }

    /// Creates a topic, or (unless `failIfExists`) returns the existing one of that name.
    private func create(_ name: String, configuration: TopicConfiguration, maxTopics: Int?, failIfExists: Bool) async throws -> Topic {
        try Self.validateTopicName(name)
        try configuration.validate()
        try Self.checkInternalName(name, configuration: configuration)
        enum Step { case exists(Topic), wait, create }
        while true {
            let step = try state.withLock { s throws(LogError) -> Step in
                if s.closed { throw LogError(.closed, "the store at \(directory) is closed.") }
                if let t = s.topics[name] {
                    if failIfExists { throw LogError(.topicExists, "a topic named \(name) already exists.") }
                    return .exists(t)
                }
                if s.busyNames[name] != nil { return .wait }
                if let maxTopics, !configuration.isInternal {
                    let count = s.topics.values.count(where: { !$0.isInternal })
                        + s.busyNames.values.count(where: { $0.kind == .creating })
                    if count >= maxTopics {
                        throw LogError(.topicLimitReached, "topic \(name) was not created: the store holds \(count) topics, the most allowed here is \(maxTopics).")
                    }
                }
                if !configuration.isInternal {
                    try checkPartitionLimit(s, adding: configuration.partitions,
                                            "topic \(name) was not created with \(configuration.partitions) partitions")
                }
                s.busyNames[name] = NameWork(kind: .creating, addedPartitions: configuration.isInternal ? 0 : configuration.partitions)
                return .create
            }
            switch step {
            case .exists(let topic): return topic
            case .wait: await waitForNameWork(name)
            case .create:
                let topic: Topic
                do {
                    topic = try await executor.run { () throws -> Topic in
                        let dir = self.topicsDirectory + "/" + name
                        try FileSystem.createDirectory(dir, faults: self.options.faults)
                        let live = LiveConfiguration(configuration)
                        do {
                            let partitions = try self.makePartitions(0..<configuration.partitions, of: name, directory: dir,
                                                                     configuration: live)
                            // The commit point: a topic directory without it is removed at the next open.
                            try FileSystem.writeAtomically(dir + "/topic.conf", configuration.encodedFile(), directory: dir,
                                                           faults: self.options.faults)
                            return Topic(name: name, configuration: live, partitions: partitions, directory: dir)
                        } catch {
                            try? FileSystem.removeTree(dir)
                            throw error
                        }
                    }
                } catch {
                    finishNameWork(name)
                    throw error
                }
                finishNameWork(name) { $0.topics[name] = topic }
                logger.info("created topic", metadata: ["topic": "\(name)", "partitions": "\(configuration.partitions)"])
                return topic
            }
        }
    }

    /// Deletes a topic and all its data.
    ///
    /// Readers of it end. Appends not yet written fail with ``LogError/Code/topicNotFound``,
    /// later ones with ``LogError/Code/closed``: nothing is acknowledged into the deleted
    /// files. A create of the same name waits until the delete is done, so what is appended
    /// to the new topic after this returns survives a restart.
    ///
    /// - Throws: ``LogError/Code/topicNotFound``, ``LogError/Code/internalTopic`` for an
    ///   internal topic (the library's own state, such as consumer group commits),
    ///   ``LogError/Code/closed``, or an I/O error.
    public func deleteTopic(named name: String) async throws {
        enum Step { case delete(Topic), wait }
        while true {
            let step = try state.withLock { s throws(LogError) -> Step in
                if s.closed { throw LogError(.closed, "the store at \(directory) is closed.") }
                if s.busyNames[name] != nil { return .wait }
                if s.topics[name]?.isInternal == true {
                    throw LogError(.internalTopic, "topic \(name) is internal: it cannot be deleted.")
                }
                guard let topic = s.topics.removeValue(forKey: name) else {
                    throw LogError(.topicNotFound, "there is no topic named \(name).")
                }
                s.busyNames[name] = NameWork(kind: .deleting)
                return .delete(topic)
            }
            guard case .delete(let topic) = step else {
                await waitForNameWork(name)
                continue
            }
            defer { finishNameWork(name) }
            for p in topic.partitions { await p.closeForDeletion() }
            try await executor.run {
                let trash = self.directory + "/trash"
                try FileSystem.createDirectory(trash)
                // At most 64 characters of the name, for an operator's eye: a whole one (up to
                // 249) and the suffix would pass NAME_MAX (255) and fail the rename.
                let target = trash + "/" + String(name.prefix(64)) + "-" + String(FileSystem.monotonicNanoseconds())
                // No flusher tick still writes into the directory while it moves.
                try self.flushGate.withLock { _ throws(LogError) in try FileSystem.rename(topic.directory, target) }
                try FileSystem.syncDirectory(self.topicsDirectory)
                try FileSystem.removeTree(target)
            }
            logger.info("deleted topic", metadata: ["topic": "\(name)"])
            return
        }
    }

    /// Suspends until the create, alter or delete of `name` under way has ended (no polling:
    /// the task that ends it resumes the waiters).
    func waitForNameWork(_ name: String) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let free = state.withLock { s -> Bool in
                guard s.busyNames[name] != nil else { return true }
                s.busyNames[name]!.waiters.append(c)
                return false
            }
            if free { c.resume() }
        }
    }

    /// Ends the create, alter or delete of `name` (applying `change` in the same critical
    /// section) and resumes the tasks waiting for it.
    func finishNameWork(_ name: String, _ change: (inout StoreState) -> Void = { _ in }) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            change(&s)
            return s.busyNames.removeValue(forKey: name)?.waiters ?? []
        }
        for c in waiters { c.resume() }
    }

    /// Closes the store: finishes queued appends, syncs every partition, writes the
    /// clean-shutdown marker (so the next open scans nothing) and releases the lock.
    ///
    /// Every call waits for the one close: a second call (concurrent or later) returns, or
    /// throws, when the first has finished, never before.
    public func close() async throws {
        let closing = state.withLock { s -> Task<Void, any Error> in
            if let task = s.closing { return task }
            s.closed = true
            let topics = Array(s.topics.values)
            let task = Task { try await self.closeOnce(topics) }
            s.closing = task
            return task
        }
        try await closing.value
    }

    private func closeOnce(_ topics: [Topic]) async throws {
        cleaner.withLock { $0 }?.stop()
        flusher.withLock { $0 }?.stop()
        // Partitions close a few at a time, as many as there are I/O threads to sync them: a
        // store of thousands of partitions closes in seconds, not one sync after another.
        var firstError: (any Error)?
        var waiting = topics.flatMap(\.partitions)[...]
        await withTaskGroup(of: (Partition, (any Error)?).self) { group in
            func closeNext() {
                guard let p = waiting.popFirst() else { return }
                group.addTask {
                    do { try await p.close() } catch { return (p, error) }
                    return (p, nil)
                }
            }
            for _ in 0..<max(1, options.ioThreads) { closeNext() }
            while let (p, failure) = await group.next() {
                closeNext()
                if let failure {
                    firstError = firstError ?? failure
                    logger.error("could not close partition cleanly", metadata: ["partition": "\(p.topicName)/\(p.index)", "error": "\(failure)"])
                }
            }
        }
        if firstError == nil {
            try await executor.run {
                try FileSystem.writeAtomically(self.directory + "/" + Self.cleanMarker, Array("clean\n".utf8), directory: self.directory)
            }
        }
        executor.shutdown()
        lockFile.unlock()
        logger.info("closed data directory", metadata: ["directory": "\(directory)", "clean": "\(firstError == nil)"])
        if let firstError { throw firstError }
    }
}
