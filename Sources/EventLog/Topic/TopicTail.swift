import Synchronization

/// Follows every partition of a topic from a position, in bounded steps: the engine behind
/// ``Topic/records(from:)-(TopicPosition)`` and the server's event streams (SSE, WebSocket).
///
/// Each ``read(maxRecords:maxBytes:)`` reads what is there now, at most `maxRecords` records
/// and about `maxBytes` bytes shared among the partitions that have records past the
/// position (one read each), and merges them by timestamp, each partition kept in offset
/// order (ties go to the lower partition). When nothing is there, ``waitForRecords(timeout:)``
/// waits until an append publishes a record (the append wakes it; no polling). A caller that
/// handles one step before reading the next holds at most one batch per partition.
///
/// When the topic grows (``LogStore/alterTopic(named:_:)``), the next read covers the new
/// partitions from their start (the growth wakes a tail that waits), so the position has the
/// new count from then on.
///
/// Where the position cannot be honoured it says so with a ``TopicNotice``: at the start
/// (``startNotices``) for a position below a partition's start (a gap: retention deleted the
/// records) or past its end (a reset: the topic was made again), and in a step for records
/// deleted while the tail was behind them, or stored data that is damaged (a gap marked
/// ``TopicNotice/damaged``; reading continues after it).
///
/// `Content` is what a reader gives of each record: the ``StoredRecord`` itself (a view into
/// its read's buffer), or, from a custom reader, something made from it, such as the server's
/// encoded event, shared by every stream that reads the same records (which then need not keep
/// the records, nor their read's buffers). The tail itself needs only each record's offset
/// and timestamp.
package struct TopicTail<Content: Sendable>: Sendable {
    /// Reads `partition` from an offset, at most `maxRecords` records and about `maxBytes`
    /// bytes (at least one record when there is one), as ``Partition/read(from:maxRecords:maxBytes:)``
    /// does and with the same errors.
    package typealias Reader = @Sendable (_ partition: Partition, _ from: Offset, _ maxRecords: Int, _ maxBytes: Int) async throws -> Chunk

    /// What a reader returns: each record's offset and timestamp, in offset order, and its
    /// content; and, when the reader knows it, the offset to read from next (past records
    /// compaction removed).
    package struct Chunk: Sendable {
        package var positions: [(offset: Offset, timestamp: Int64)]
        package var contents: [Content]
        package var nextOffset: Offset?

        package init(positions: [(offset: Offset, timestamp: Int64)], contents: [Content], nextOffset: Offset? = nil) {
            precondition(positions.count == contents.count, "one content per record")
            self.positions = positions
            self.contents = contents
            self.nextOffset = nextOffset
        }
    }

    /// A record to deliver: where it is, and its content.
    package struct Item: Sendable {
        /// The partition the record is in.
        package var partition: Int
        /// Its offset there.
        package var offset: Offset
        /// Its timestamp (ms), by which partitions are merged.
        package var timestamp: Int64
        /// What the reader gave of it.
        package var content: Content
    }

    /// One step: the notices, then the records, in the order to deliver them.
    package struct Step: Sendable {
        package var notices: [TopicNotice] = []
        package var items: [Item] = []
        package var isEmpty: Bool { notices.isEmpty && items.isEmpty }
    }

    /// The topic followed.
    package let topic: Topic
    /// Where the tail is: the position after everything returned so far.
    package private(set) var position: TopicPosition
    /// The notices for partitions where the starting position could not be honoured, to
    /// deliver before anything else.
    package let startNotices: [TopicNotice]
    private let reader: Reader

    /// A tail of `topic` from `position`, reading with `reader`.
    ///
    /// A partition whose next offset is below its start starts at the start (a gap notice);
    /// past its end, at the end (a reset notice). A position with fewer partitions than the
    /// topic (taken before it grew) reads the others from offset 0.
    ///
    /// - Throws: ``LogError/Code/invalidArgument`` when the position has more partitions
    ///   than the topic.
    package init(topic: Topic, from position: TopicPosition, reader: @escaping Reader) throws(LogError) {
        let partitions = topic.partitions
        guard position.partitionCount <= partitions.count else {
            throw LogError(.invalidArgument, "the position \(position) has \(position.partitionCount) partitions; topic \(topic.name) has \(partitions.count).")
        }
        var position = position
        position.extend(toPartitionCount: partitions.count)
        var notices: [TopicNotice] = []
        for (index, partition) in partitions.enumerated() {
            let (start, end) = (partition.startOffset, partition.endOffset)
            let next = position[index]
            if next < start {
                notices.append(TopicNotice(kind: .gap, partition: index, requested: next, resumedFrom: start))
                position[index] = start
            } else if next > end {
                notices.append(TopicNotice(kind: .reset, partition: index, requested: next, resumedFrom: end))
                position[index] = end
            }
        }
        self.topic = topic
        self.position = position
        self.startNotices = notices
        self.reader = reader
    }

    /// Whether the topic's partitions are closed (the topic was deleted, or the store closed):
    /// nothing more will come.
    package var isClosed: Bool { topic.partitions.contains { $0.isClosed } }

    /// Whether a ``read(maxRecords:maxBytes:)`` now would return an empty step: the partitions
    /// are open, the topic has not grown past the position, and no partition has a record past
    /// it. Known without a wait (the server's event-stream shortcut joins the live fan-out on it).
    package var isCaughtUp: Bool {
        let partitions = topic.partitions
        guard partitions.count == position.partitionCount else { return false }
        return partitions.indices.allSatisfy { !partitions[$0].isClosed && partitions[$0].endOffset <= position[$0] }
    }

    /// What is there now past the position, at most `maxRecords` records and about
    /// `maxBytes` bytes; an empty step when there is nothing (then ``waitForRecords(timeout:)``).
    ///
    /// - Returns: `nil` once the topic's partitions are closed.
    /// - Throws: an error of the reader other than the ones it handles (offsets out of range,
    ///   damaged data, a closed partition).
    package mutating func read(maxRecords: Int, maxBytes: Int) async throws -> Step? {
        let partitions = topic.partitions
        if partitions.contains(where: { $0.isClosed }) { return nil }
        position.extend(toPartitionCount: partitions.count)  // the topic grew
        var step = Step()
        let ready = partitions.indices.filter { partitions[$0].endOffset > position[$0] }
        guard !ready.isEmpty else { return step }
        let recordsEach = max(1, maxRecords / ready.count)
        let bytesEach = max(1024, maxBytes / ready.count)
        var chunks: [Chunk?] = Array(repeating: nil, count: partitions.count)
        for index in ready {
            let partition = partitions[index]
            var from = position[index]
            let start = partition.startOffset
            if from < start {
                // Retention deleted records this tail had not delivered yet.
                step.notices.append(TopicNotice(kind: .gap, partition: index, requested: from, resumedFrom: start))
                position[index] = start
                from = start
            }
            do {
                chunks[index] = try await reader(partition, from, recordsEach, bytesEach)
            } catch LogError.Code.offsetOutOfRange {
                continue  // the start moved meanwhile; the next step notices the gap
            } catch LogError.Code.closed {
                return nil
            } catch let error as LogError where error.code == .corruptData && error.range != nil {
                // Damaged stored data (the partition logged it): say which offsets, go on after them.
                let end = error.range!.end
                step.notices.append(TopicNotice(kind: .gap, partition: index, requested: from, resumedFrom: end, damaged: true))
                position[index] = end
            }
        }

        // Merge: repeatedly take the head with the smallest timestamp (ties by partition).
        var timesBy: [[(offset: Offset, timestamp: Int64)]] = Array(repeating: [], count: partitions.count)
        var contentsBy: [[Content]] = Array(repeating: [], count: partitions.count)
        var total = 0
        for index in ready {
            guard chunks[index] != nil else { continue }
            swap(&timesBy[index], &chunks[index]!.positions)
            swap(&contentsBy[index], &chunks[index]!.contents)
            total += timesBy[index].count
        }
        step.items.reserveCapacity(total)
        if ready.count == 1 {
            // One partition: its records in order, no merge.
            let index = ready[0]
            for (i, (offset, timestamp)) in timesBy[index].enumerated() {
                step.items.append(Item(partition: index, offset: offset, timestamp: timestamp, content: contentsBy[index][i]))
            }
            if let last = timesBy[index].last { position[index] = last.offset + 1 }
        }
        var heads = Array(repeating: 0, count: partitions.count)
        while ready.count > 1 {
            var best = -1
            var bestTimestamp = Int64.max
            for index in ready where heads[index] < timesBy[index].count {
                let timestamp = timesBy[index][heads[index]].timestamp
                if best < 0 || timestamp < bestTimestamp {
                    best = index
                    bestTimestamp = timestamp
                }
            }
            guard best >= 0 else { break }
            let offset = timesBy[best][heads[best]].offset
            step.items.append(Item(partition: best, offset: offset, timestamp: bestTimestamp, content: contentsBy[best][heads[best]]))
            heads[best] += 1
            position[best] = offset + 1
        }
        // Past offsets that held no records (compaction), so that a caught-up tail waits
        // rather than reading the same empty range again.
        for index in ready {
            if let next = chunks[index]?.nextOffset, next > position[index] { position[index] = next }
        }
        return step
    }

    /// Waits until a partition has a record past the position, at most `timeout`.
    ///
    /// - Returns: `true` once one does; `false` on timeout, cancellation, or once the
    ///   partitions are closed.
    package func waitForRecords(timeout: Duration) async -> Bool {
        // A partition added since the last read is waited on from offset 0: any record there is new.
        let positions = topic.partitions.enumerated().map {
            (partition: $0.element, offset: $0.offset < position.partitionCount ? position[$0.offset] : Offset(0))
        }
        let topic = topic
        return await Partition.waitForRecords(positions, timeout: timeout, unless: { topic.partitionCount != positions.count })
    }
}

extension TopicTail where Content == StoredRecord {
    /// A tail of `topic` from `position`, reading with ``Partition/read(from:maxRecords:maxBytes:)``:
    /// each item's content is its record, a view into its read's buffer.
    ///
    /// - Throws: ``LogError/Code/invalidArgument`` when the position has more partitions than
    ///   the topic.
    ///
    /// Reads ahead, as ``RecordSequence`` does: while a partition has stored records past a
    /// read, the next read of it runs on the store's I/O threads as the step is handed out, so
    /// a replay rarely waits for a thread hop. A step then holds at most two reads per
    /// partition: its own and the one ahead.
    package init(topic: Topic, from position: TopicPosition) throws(LogError) {
        let aheads = Mutex<[Int: ReadAhead]>([:])
        try self.init(topic: topic, from: position) { partition, from, maxRecords, maxBytes in
            let ahead = aheads.withLock { $0.removeValue(forKey: partition.index) }
            let result: Partition.ReadResult
            // The read made ahead serves when it starts here and keeps within this step's limits.
            if let ahead, ahead.offset == from.rawValue, ahead.maxRecords <= maxRecords, ahead.maxBytes <= maxBytes {
                result = try await ahead.result()
            } else {
                result = try await partition.read(from: from, maxRecords: maxRecords, maxBytes: maxBytes)
            }
            if !result.records.isEmpty, result.nextOffset < partition.endOffset {
                let next = ReadAhead(partition, from: result.nextOffset.rawValue, maxRecords: maxRecords, maxBytes: maxBytes)
                aheads.withLock { $0[partition.index] = next }
            }
            return Chunk(positions: result.records.map { ($0.offset, $0.timestamp) }, contents: result.records,
                         nextOffset: result.nextOffset)
        }
    }
}

extension TopicTail.Item where Content == StoredRecord {
    /// The record with its partition, as ``Topic/records(from:)-(TopicPosition)`` delivers it.
    package var record: TopicRecord { TopicRecord(partition: partition, record: content) }
}

extension TopicPosition {
    /// Moves past a record a tail delivered: its partition continues after its offset.
    package mutating func advance<Content>(past item: TopicTail<Content>.Item) {
        extend(toPartitionCount: item.partition + 1)
        self[item.partition] = item.offset + 1
    }
}
