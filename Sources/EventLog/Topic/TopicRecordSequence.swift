/// The records of every partition of a topic from a position on: a replay that turns into a
/// live tail. Never ends by itself; it ends when the task is cancelled, or when the topic is
/// deleted or the store closed.
///
/// Each step reads what every partition has past the position (one bounded read each) and
/// delivers it merged by timestamp, each partition in offset order, as the server's event
/// stream does. Memory stays bounded: one step holds at most ``readAheadRecords`` records and
/// about ``readAheadBytes`` bytes, shared among the partitions read.
///
/// Records it cannot deliver where asked come as ``TopicEvent/notice(_:)`` events, never as
/// errors: records retention deleted before they were read, damaged stored data (skipped), a
/// position past a partition's end. Keep a ``TopicPosition`` up to date with
/// ``TopicPosition/advance(past:)-(TopicEvent)`` to resume later with no loss and no repeat:
///
/// ```swift
/// var position = try await orders.position(for: .earliest)
/// for try await event in orders.records(from: position) {
///     switch event {
///     case .record(let record): handle(record.partition, record.value)
///     case .notice(let notice): report(notice)
///     }
///     position.advance(past: event)   // save position.description to resume from it
/// }
/// ```
public struct TopicRecordSequence: AsyncSequence, Sendable {
    public typealias Element = TopicEvent

    enum Start: Sendable {
        case resolving(StartPosition)
        case position(TopicPosition)
    }

    let topic: Topic
    let start: Start
    /// The most records one step brings into memory.
    public var readAheadRecords: Int = 4096
    /// About the most bytes of log one step brings into memory (at least one record per partition read).
    public var readAheadBytes: Int = 256 << 10

    public func makeAsyncIterator() -> Iterator {
        Iterator(topic: topic, start: start, maxRecords: Swift.max(1, readAheadRecords), maxBytes: Swift.max(1, readAheadBytes))
    }

    /// Reads a step at a time and waits on the partitions between steps.
    public struct Iterator: AsyncIteratorProtocol {
        let topic: Topic
        var start: Start?
        var tail: TopicTail<StoredRecord>?
        /// The events of the last step not handed out yet, the next one last: taking it moves
        /// it out (no copy).
        @usableFromInline var pending: [TopicEvent] = []
        let maxRecords: Int
        let maxBytes: Int

        init(topic: Topic, start: Start, maxRecords: Int, maxBytes: Int) {
            self.topic = topic
            self.start = start
            self.maxRecords = maxRecords
            self.maxBytes = maxBytes
        }

        /// The next record or notice, waiting for an append when there is none yet.
        ///
        /// An inlinable fast path hands out the last step's events; only the next step goes
        /// through an out-of-line call (as ``RecordSequence/Iterator`` does).
        ///
        /// - Returns: `nil` once the task is cancelled, or the topic deleted or the store closed.
        /// - Throws: ``LogError/Code/invalidArgument`` for a position of another number of
        ///   partitions than the topic; an I/O error of a read.
        @inlinable
        public mutating func next() async throws -> TopicEvent? {
            if let event = pending.popLast() { return event }
            return try await nextStep(isolation: nil)
        }

        /// ``next()``, as a `for try await` loop calls it (the same fast path).
        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> TopicEvent? {
            if let event = pending.popLast() { return event }
            return try await nextStep(isolation: actor)
        }

        /// Reads the next step (or waits for one), then hands out its first event.
        @usableFromInline
        mutating func nextStep(isolation actor: isolated (any Actor)?) async throws -> TopicEvent? {
            if let start {
                self.start = nil
                let position: TopicPosition
                switch start {
                case .position(let given): position = given
                case .resolving(let startPosition): position = try await topic.position(for: startPosition)
                }
                let tail = try TopicTail(topic: topic, from: position)
                pending = tail.startNotices.reversed().map { .notice($0) }
                self.tail = tail
            }
            while pending.isEmpty {
                if Task.isCancelled { return nil }
                guard var step = try await tail!.read(maxRecords: maxRecords, maxBytes: maxBytes) else { return nil }
                pending.reserveCapacity(step.notices.count + step.items.count)
                // Newest last-out: the records in reverse, then the notices that come before them.
                while let item = step.items.popLast() {
                    let partition = item.partition
                    pending.append(.record(TopicRecord(partition: partition, record: (consume item).content)))
                }
                for notice in step.notices.reversed() { pending.append(.notice(notice)) }
                if pending.isEmpty {
                    _ = await tail!.waitForRecords(timeout: .seconds(3600))
                }
            }
            return pending.popLast()
        }
    }
}

extension Topic {
    /// Every partition's records from `start` on: a replay that turns into a live tail.
    ///
    /// `start` applies to each partition: ``StartPosition/earliest`` its start,
    /// ``StartPosition/latest`` its end (only records appended later),
    /// ``StartPosition/offset(_:)`` that offset (its end when the offset is past it; below
    /// its start, the start after a gap notice), ``StartPosition/timestamp(_:)`` its first
    /// record at or after that time. See ``TopicRecordSequence``.
    public func records(from start: StartPosition) -> TopicRecordSequence {
        TopicRecordSequence(topic: self, start: .resolving(start))
    }

    /// Every partition's records after a position (as ``TopicPosition/advance(past:)-(TopicEvent)``
    /// or a cursor's text left it): exactly the records not yet delivered, then live ones.
    ///
    /// A position below a partition's start continues at the start, one past its end at the
    /// end, each after a notice. A position of another number of partitions than the topic
    /// makes the first `next()` throw ``LogError/Code/invalidArgument``.
    public func records(from position: TopicPosition) -> TopicRecordSequence {
        TopicRecordSequence(topic: self, start: .position(position))
    }

    /// The position `start` means now when that needs no read (``StartPosition/earliest``,
    /// ``StartPosition/latest``, an offset), as ``position(for:)`` finds it; `nil` for a
    /// timestamp, which is looked up in the time indexes.
    public func positionNow(for start: StartPosition) -> TopicPosition? {
        var offsets: [Offset] = []
        offsets.reserveCapacity(partitions.count)
        for partition in partitions {
            switch start {
            case .earliest: offsets.append(partition.startOffset)
            case .latest: offsets.append(partition.endOffset)
            case .offset(let offset): offsets.append(max(Offset(0), min(offset, partition.endOffset)))
            case .timestamp: return nil
            }
        }
        return TopicPosition(nextOffsets: offsets)
    }

    /// The position `start` means now, partition by partition (see ``records(from:)-(StartPosition)``).
    ///
    /// - Throws: an I/O error while looking up a timestamp.
    public func position(for start: StartPosition) async throws -> TopicPosition {
        if let position = positionNow(for: start) { return position }
        guard case .timestamp(let milliseconds) = start else { preconditionFailure("positionNow(for:) reads every start but a timestamp") }
        var offsets: [Offset] = []
        offsets.reserveCapacity(partitions.count)
        for partition in partitions {
            offsets.append(try await partition.offset(forTimestamp: milliseconds))
        }
        return TopicPosition(nextOffsets: offsets)
    }
}
