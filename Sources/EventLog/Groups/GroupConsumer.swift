import Synchronization

/// A member of a consumer group that reads its assigned partitions as an `AsyncSequence` of
/// record batches, starting at the group's committed positions.
///
/// ```swift
/// let consumer = try await GroupConsumer.join("billing", topics: ["orders"], coordinator: groups) { rebalance in
///     print("lost \(rebalance.revoked), got \(rebalance.assigned)")
/// }
/// for try await batch in consumer.batches() {
///     try await handle(batch.records)   // committed when the loop asks for the next batch
/// }
/// ```
///
/// Delivery is at-least-once by default: a batch's position is committed when the loop asks
/// for the next batch (after processing it), on a rebalance and on ``leave()``; a crash
/// re-delivers what was processed since the last commit. With
/// ``DeliveryGuarantee/atMostOnce`` each batch is committed before it is handed out. See
/// Docs/CONSUMER-GROUPS.md for effectively-once processing.
///
/// The session is kept alive by the iteration itself (a heartbeat at least every
/// ``Options/heartbeatInterval``): process a batch within the session timeout, or the
/// member is removed and its partitions move (it then joins again, and its next commit of
/// the batch it held is refused as stale).
public final class GroupConsumer: Sendable {
    /// When a batch counts as consumed.
    public enum DeliveryGuarantee: Hashable, Sendable {
        /// Committed after processing (when the next batch is asked for): nothing is lost,
        /// a crash may re-deliver.
        case atLeastOnce
        /// Committed before the batch is handed out: nothing is re-delivered, a crash may lose it.
        case atMostOnce
    }

    /// How a consumer runs.
    public struct Options: Sendable {
        /// Removed from the group after this long without contact.
        public var sessionTimeout: Duration = .seconds(10)
        /// How often the iteration heartbeats; `nil` for a third of the session timeout.
        public var heartbeatInterval: Duration?
        /// Where to start in partitions the group has no commit for.
        public var resetPolicy: OffsetResetPolicy = .earliest
        /// At-least-once (the default) or at-most-once.
        public var delivery: DeliveryGuarantee = .atLeastOnce
        /// The group's assignment strategy, when this member is the first (default sticky).
        public var strategy: AssignmentStrategy?
        /// The most records in one batch.
        public var maxRecordsPerBatch = 500
        /// Text stored with every commit of this consumer.
        public var commitMetadata: String?

        /// The defaults: 10 s sessions, earliest, at-least-once, sticky, 500 records per batch.
        public init() {}

        var interval: Duration { heartbeatInterval ?? sessionTimeout / 3 }
    }

    /// A change of assignment, told before the consumer reads with the new one.
    public struct Rebalance: Hashable, Sendable {
        /// The new generation.
        public var generation: Int
        /// Partitions this consumer no longer owns. Under at-least-once their delivered
        /// positions are committed right after the handler returns.
        public var revoked: [TopicPartition]
        /// Partitions this consumer owns now and did not before.
        public var assigned: [TopicPartition]
        /// Everything it owns now.
        public var assignment: [TopicPartition]
    }

    /// Records of one partition, in offset order.
    public struct Batch: Hashable, Sendable {
        /// Where the records come from.
        public var topicPartition: TopicPartition
        /// The records.
        public var records: [StoredRecord]
        /// The position after the batch: what committing it stores.
        public var nextOffset: Offset
        /// The generation the batch was read in.
        public var generation: Int
    }

    struct State: Sendable {
        var membership: GroupMembership
        /// Read positions; missing means "from the commit".
        var positions: [TopicPartition: Offset] = [:]
        /// Delivered and not yet committed.
        var delivered: [TopicPartition: Offset] = [:]
        var lastHeartbeat: ContinuousClock.Instant
        var turn = 0
        var left = false
    }

    /// The coordinator the consumer talks to.
    public let coordinator: GroupCoordinator
    /// The group's name.
    public let group: String
    /// The subscribed topics.
    public let topics: [String]
    let options: Options
    let onRebalance: @Sendable (Rebalance) async throws -> Void
    let state: Mutex<State>

    private init(coordinator: GroupCoordinator, group: String, topics: [String], options: Options,
                 membership: GroupMembership, onRebalance: @escaping @Sendable (Rebalance) async throws -> Void) {
        self.coordinator = coordinator
        self.group = group
        self.topics = topics
        self.options = options
        self.onRebalance = onRebalance
        self.state = Mutex(State(membership: membership, lastHeartbeat: ContinuousClock.now))
    }

    /// Joins `group` for `topics`.
    ///
    /// - Parameters:
    ///   - group: the consumer group's name.
    ///   - topics: the topics whose partitions the group shares out.
    ///   - coordinator: the store's group coordinator.
    ///   - options: session timeout, assignment strategy, reset policy, delivery, batch size.
    ///   - onRebalance: called when the assignment changes, before reading with the
    ///     new one; commit there whatever you track yourself for the revoked partitions.
    /// - Throws: the errors of ``GroupCoordinator/join(_:topics:sessionTimeout:strategy:resetPolicy:)``.
    public static func join(
        _ group: String, topics: [String], coordinator: GroupCoordinator, options: Options = Options(),
        onRebalance: @escaping @Sendable (Rebalance) async throws -> Void = { _ in }
    ) async throws -> GroupConsumer {
        let membership = try await coordinator.join(
            group, topics: topics, sessionTimeout: options.sessionTimeout, strategy: options.strategy, resetPolicy: options.resetPolicy)
        return GroupConsumer(coordinator: coordinator, group: group, topics: topics, options: options,
                             membership: membership, onRebalance: onRebalance)
    }

    /// The member's id and generation right now.
    public var membership: GroupMembership { state.withLock { $0.membership } }

    /// The batches of the assigned partitions, waiting for appends when there are none.
    /// Ends when the task is cancelled or after ``leave()``. Iterate it from one task.
    public func batches() -> Batches { Batches(consumer: self) }

    /// Commits the positions of every batch delivered so far.
    public func commit() async throws {
        let (delivered, member) = state.withLock { s in (s.delivered, GroupMemberGeneration(memberID: s.membership.memberID, generation: s.membership.generation)) }
        guard !delivered.isEmpty else { return }
        try await coordinator.commit(delivered.mapValues { CommittedOffset($0, metadata: options.commitMetadata) }, for: group, by: member)
        state.withLock { s in
            for (tp, offset) in delivered where s.delivered[tp] == offset { s.delivered[tp] = nil }
        }
    }

    /// Commits what was delivered (under at-least-once) and leaves the group; its partitions
    /// move to the other members.
    public func leave() async throws {
        if options.delivery == .atLeastOnce { try await commitHandlingRebalance() }
        let id = state.withLock { s -> MemberID? in
            if s.left { return nil }
            s.left = true
            return s.membership.memberID
        }
        if let id { try await coordinator.leave(group, member: id) }
    }

    // MARK: The iteration

    /// Commits delivered positions; when fenced, learns the new generation (whose handling
    /// commits them with it) instead.
    func commitHandlingRebalance() async throws {
        do {
            try await commit()
        } catch LogError.Code.staleGeneration {
            try await heartbeat(force: true)
        } catch LogError.Code.unknownMember {
            try await heartbeat(force: true)
        }
    }

    /// Heartbeats when due (or when `force`d) and handles a new generation. A session that
    /// expires in the middle (a slow machine, a long pause) is joined again, as Kafka's
    /// consumer does on an unknown member id: what was not committed is delivered again.
    func heartbeat(force: Bool) async throws {
        do {
            try await heartbeatOnce(force: force)
        } catch LogError.Code.unknownMember {
            try await heartbeatOnce(force: true)
        }
    }

    private func heartbeatOnce(force: Bool) async throws {
        let (id, due) = state.withLock { s in (s.membership.memberID, force || ContinuousClock.now - s.lastHeartbeat >= options.interval) }
        guard due else { return }
        guard let answer = try await heartbeatOrNilWhenExpired(id) else {
            // The session expired: everything is revoked; join again as a new member.
            let fresh = try await coordinator.join(
                group, topics: topics, sessionTimeout: options.sessionTimeout, strategy: options.strategy, resetPolicy: options.resetPolicy)
            let old = state.withLock { s -> [TopicPartition] in
                let old = s.membership.assignment
                s.membership = fresh
                s.positions = [:]
                s.delivered = [:]
                s.lastHeartbeat = .now
                return old
            }
            try await onRebalance(Rebalance(generation: fresh.generation, revoked: old, assigned: fresh.assignment, assignment: fresh.assignment))
            return
        }
        let previous = state.withLock { s -> GroupMembership in
            let previous = s.membership
            s.lastHeartbeat = .now
            if answer.generation == s.membership.generation { s.membership.rebalancing = answer.rebalancing }
            return previous
        }
        guard answer.generation != previous.generation else { return }
        // A new generation: tell the application, commit with the new generation (nobody reads
        // a moved partition before this member acknowledges it), restart from the commits,
        // then acknowledge with a second heartbeat.
        let old = Set(previous.assignment), new = Set(answer.assignment)
        try await onRebalance(Rebalance(
            generation: answer.generation, revoked: old.subtracting(new).sorted(), assigned: new.subtracting(old).sorted(),
            assignment: answer.assignment))
        state.withLock { $0.membership = answer }
        if options.delivery == .atLeastOnce { try await commit() }
        state.withLock { s in
            s.positions = [:]
            s.delivered = [:]
        }
        let acknowledged = try await coordinator.heartbeat(group, member: answer.memberID)
        state.withLock { s in
            s.membership = acknowledged
            s.lastHeartbeat = .now
        }
    }

    /// The coordinator's answer, or `nil` when the member is no longer known.
    private func heartbeatOrNilWhenExpired(_ id: MemberID) async throws -> GroupMembership? {
        do {
            return try await coordinator.heartbeat(group, member: id)
        } catch let error where error.code == .unknownMember {
            return nil
        }
    }

    /// The next batch, or `nil` once cancelled or left.
    func nextBatch() async throws -> Batch? {
        while true {
            if Task.isCancelled || state.withLock({ $0.left }) { return nil }
            if options.delivery == .atLeastOnce { try await commitHandlingRebalance() }
            try await heartbeat(force: false)
            let membership = state.withLock { $0.membership }
            if membership.rebalancing {
                // Other members have not acknowledged the generation yet: wait a little, ask again.
                try? await Task.sleep(for: min(options.interval, .milliseconds(20)))
                if Task.isCancelled { return nil }
                try await heartbeat(force: true)
                continue
            }
            var positions: [(TopicPartition, Partition, Offset)] = []
            for tp in membership.assignment {
                guard let partition = try? coordinator.store.partition(tp) else { continue }
                var offset = state.withLock { $0.positions[tp] }
                if offset == nil {
                    offset = await coordinator.committedOffset(for: group, tp)?.offset
                        ?? (options.resetPolicy == .earliest ? partition.startOffset : partition.endOffset)
                }
                positions.append((tp, partition, min(max(offset!, partition.startOffset), partition.endOffset)))
            }
            let turn = state.withLock { s -> Int in
                s.turn += 1
                return s.turn
            }
            for k in positions.indices {
                let (tp, partition, from) = positions[(turn + k) % positions.count]
                let read: Partition.ReadResult
                do {
                    read = try await partition.read(from: from, maxRecords: options.maxRecordsPerBatch)
                } catch LogError.Code.offsetOutOfRange {
                    continue
                } catch let error as LogError where error.code == .corruptData && error.range != nil {
                    // Damaged stored data (logged by the partition, listed in its damagedRanges): skip it.
                    state.withLock { $0.positions[tp] = error.range!.end }
                    continue
                }
                state.withLock { $0.positions[tp] = read.nextOffset }
                guard !read.records.isEmpty else { continue }
                let batch = Batch(topicPartition: tp, records: read.records, nextOffset: read.nextOffset, generation: membership.generation)
                switch options.delivery {
                case .atMostOnce:
                    try await coordinator.commit(
                        [tp: CommittedOffset(read.nextOffset, metadata: options.commitMetadata)], for: group,
                        by: GroupMemberGeneration(memberID: membership.memberID, generation: membership.generation))
                case .atLeastOnce:
                    state.withLock { $0.delivered[tp] = read.nextOffset }
                }
                return batch
            }
            // Nothing to read: wait for an append, at most until the next heartbeat is due.
            if positions.isEmpty {
                try? await Task.sleep(for: options.interval)
                continue
            }
            _ = await Partition.waitForRecords(positions.map { ($0.1, $0.2) }, timeout: options.interval)
        }
    }

    /// The `AsyncSequence` of a consumer's batches.
    public struct Batches: AsyncSequence, Sendable {
        public typealias Element = Batch
        let consumer: GroupConsumer

        public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        /// Asks the consumer for one batch at a time.
        public struct Iterator: AsyncIteratorProtocol {
            let consumer: GroupConsumer

            public mutating func next() async throws -> Batch? {
                try await consumer.nextBatch()
            }
        }
    }
}
