import EventLog

/// Follows every partition of a topic from a cursor, in bounded batches, for one stream.
///
/// Each call to ``next(lifecycle:idleTimeout:)`` reads at most ``batchRecords`` records and
/// about ``batchBytes`` bytes, or waits (woken by an append, no polling) when there are none.
/// The caller writes the batch and awaits the write before asking again, so a slow client
/// holds at most one batch in memory. Partitions are merged by timestamp, each kept in order.
struct TopicTail: Sendable {
    /// One step of a stream.
    enum Step {
        /// Records to deliver, in order, each with the cursor after it; and notices before them
        /// (records deleted by retention, or damaged stored data skipped).
        /// With a ``StreamReadCache``, each record also comes with its encoded event after the `id:` line.
        case records([Item], notices: [StreamNotice])
        /// Nothing arrived within the idle timeout: time for a keepalive.
        case idle
        /// The server is stopping: end the stream.
        case stopped
    }

    /// A record to deliver, with the cursor after it.
    struct Item: Sendable {
        /// The record's offset in its partition.
        var offset: Offset
        /// The record's timestamp (ms), by which partitions are merged.
        var timestamp: Int64
        var partition: Int
        /// The stream's cursor once this record is delivered.
        var cursor: StreamCursor
        var content: Content
    }

    /// What a stream is given of a record: the record, for the stream to encode from its read
    /// buffer; or, read through a ``StreamReadCache``, its event already encoded (without the
    /// `id:` line), shared with the other streams.
    enum Content: Sendable {
        case record(StoredRecord)
        case event([UInt8])
    }

    /// One partition's records of a read, before the merge.
    private struct Read {
        var offsets: [(offset: Offset, timestamp: Int64)] = []
        var contents: [Content] = []
    }

    let partitions: [Partition]
    private(set) var cursor: StreamCursor
    let batchRecords: Int
    let batchBytes: Int
    /// Shares reads and event encoding with the other streams (SSE); `nil`: reads alone.
    let cache: StreamReadCache?
    private let encoder = ServerSentEventEncoder()

    init(partitions: [Partition], cursor: StreamCursor, batchRecords: Int, batchBytes: Int, cache: StreamReadCache? = nil) {
        self.partitions = partitions
        self.cursor = cursor
        self.batchRecords = max(1, batchRecords)
        self.batchBytes = max(1024, batchBytes)
        self.cache = cache
    }

    /// The next batch, or `.idle` after `idleTimeout` without records, or `.stopped`.
    mutating func next(lifecycle: ServerLifecycle, idleTimeout: Duration) async throws -> Step {
        while true {
            if lifecycle.phase == .stopping { return .stopped }
            let (batch, notices) = try await readAvailable()
            if !batch.isEmpty || !notices.isEmpty { return .records(batch, notices: notices) }
            let positions = partitions.enumerated().map { (partition: $0.element, offset: cursor.nextOffset(partition: $0.offset)) }
            let woke = await lifecycle.unlessStopping {
                await Partition.waitForRecords(positions, timeout: idleTimeout)
            }
            switch woke {
            case nil: return .stopped
            case false?: return .idle
            case true?: continue
            }
        }
    }

    /// Reads what is there now from every partition that has records past the cursor.
    private mutating func readAvailable() async throws -> ([Item], [StreamNotice]) {
        var perPartition = Array(repeating: Read(), count: partitions.count)
        var notices: [StreamNotice] = []
        let ready = partitions.indices.filter { partitions[$0].endOffset > cursor.nextOffset(partition: $0) }
        guard !ready.isEmpty else { return ([], []) }
        let recordsEach = max(1, batchRecords / ready.count)
        let bytesEach = max(1024, batchBytes / ready.count)
        for index in ready {
            let partition = partitions[index]
            var from = cursor.nextOffset(partition: index)
            let start = partition.startOffset
            if from < start {
                // Retention deleted records this stream had not delivered yet.
                notices.append(StreamNotice(kind: .gap, partition: index, requested: from.rawValue, resumedFrom: start.rawValue))
                cursor.lastDelivered[index] = start.rawValue - 1
                from = start
            }
            do {
                if let cache {
                    let chunk = try await cache.read(partition, from: from, maxRecords: recordsEach, maxBytes: bytesEach, encoder: encoder)
                    perPartition[index] = Read(offsets: chunk.positions, contents: chunk.events.map { .event($0) })
                } else {
                    let records = try await partition.read(from: from, maxRecords: recordsEach, maxBytes: bytesEach).records
                    perPartition[index] = Read(offsets: records.map { ($0.offset, $0.timestamp) }, contents: records.map { .record($0) })
                }
            } catch LogError.Code.offsetOutOfRange {
                continue  // the start moved meanwhile; the next round notices the gap
            } catch let error as LogError where error.code == .corruptData && error.range != nil {
                // Damaged stored data (the partition logged it): tell the client the range and
                // go on after it; the next round reads from there.
                let end = error.range!.end.rawValue
                notices.append(StreamNotice(kind: .gap, partition: index, requested: from.rawValue, resumedFrom: end, damaged: true))
                cursor.lastDelivered[index] = end - 1
            }
        }

        // Merge: repeatedly take the head with the smallest timestamp (ties by partition).
        var heads = Array(repeating: 0, count: partitions.count)
        var merged: [Item] = []
        merged.reserveCapacity(perPartition.reduce(0) { $0 + $1.offsets.count })
        while true {
            var best: Int?
            for index in ready where heads[index] < perPartition[index].offsets.count {
                if let current = best {
                    if perPartition[index].offsets[heads[index]].timestamp < perPartition[current].offsets[heads[current]].timestamp { best = index }
                } else {
                    best = index
                }
            }
            guard let chosen = best else { break }
            let (offset, timestamp) = perPartition[chosen].offsets[heads[chosen]]
            let content = perPartition[chosen].contents[heads[chosen]]
            heads[chosen] += 1
            cursor.advance(partition: chosen, past: offset)
            merged.append(Item(offset: offset, timestamp: timestamp, partition: chosen, cursor: cursor, content: content))
        }
        return (merged, notices)
    }
}
