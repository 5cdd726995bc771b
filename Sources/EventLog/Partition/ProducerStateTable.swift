/// What each idempotent producer last wrote to a partition, so that a retried batch is
/// answered with its first offsets instead of being written twice (Kafka's producer state).
///
/// Remembers the last ``batchesPerProducer`` batches of each producer, at most
/// ``maxProducers`` producers (the least recently seen are forgotten first).
struct ProducerStateTable: Sendable, Equatable {
    static let batchesPerProducer = 5
    static let maxProducers = 10_000

    struct BatchMetadata: Sendable, Equatable {
        var firstSequence: Int32
        var lastSequence: Int32
        var firstOffset: Int64
        var lastOffset: Int64
    }

    struct Entry: Sendable, Equatable {
        var epoch: Int16
        var batches: [BatchMetadata]
        var lastSeen: UInt64
    }

    enum Verdict {
        case new
        case duplicate(OffsetRange)
    }

    private(set) var entries: [Int64: Entry] = [:]
    private var clock: UInt64 = 0

    /// Decides what to do with a batch from `stamp` of `count` records.
    func check(_ stamp: ProducerStamp, count: Int) throws(LogError) -> Verdict {
        guard let entry = entries[stamp.producerID] else {
            return .new
        }
        if stamp.epoch < entry.epoch {
            throw LogError(.staleProducerEpoch, "producer \(stamp.producerID) used epoch \(stamp.epoch), older than its current epoch \(entry.epoch).")
        }
        if stamp.epoch > entry.epoch { return .new }
        let lastSeq = stamp.baseSequence &+ Int32(count - 1)
        if let dup = entry.batches.first(where: { $0.firstSequence == stamp.baseSequence && $0.lastSequence == lastSeq }) {
            return .duplicate(OffsetRange(first: Offset(dup.firstOffset), end: Offset(dup.lastOffset + 1)))
        }
        if let last = entry.batches.last, stamp.baseSequence != last.lastSequence &+ 1 {
            throw LogError(.outOfOrderSequence, "producer \(stamp.producerID) sent sequence \(stamp.baseSequence), expected \(last.lastSequence &+ 1).")
        }
        return .new
    }

    /// Records a batch that was written.
    mutating func record(_ stamp: ProducerStamp, count: Int, firstOffset: Int64) {
        clock += 1
        let meta = BatchMetadata(firstSequence: stamp.baseSequence, lastSequence: stamp.baseSequence &+ Int32(count - 1),
                                 firstOffset: firstOffset, lastOffset: firstOffset + Int64(count - 1))
        if var entry = entries[stamp.producerID], entry.epoch == stamp.epoch {
            entry.batches.append(meta)
            if entry.batches.count > Self.batchesPerProducer { entry.batches.removeFirst() }
            entry.lastSeen = clock
            entries[stamp.producerID] = entry
        } else {
            entries[stamp.producerID] = Entry(epoch: stamp.epoch, batches: [meta], lastSeen: clock)
        }
        if entries.count > Self.maxProducers {
            if let oldest = entries.min(by: { $0.value.lastSeen < $1.value.lastSeen }) { entries[oldest.key] = nil }
        }
    }

    /// Appends the table's bytes (see FORMAT.md, "Recovery checkpoint").
    func encode(into w: inout ByteWriter) {
        w.write(bigEndian: Int32(entries.count))
        for (id, entry) in entries.sorted(by: { $0.key < $1.key }) {
            w.write(bigEndian: id)
            w.write(bigEndian: entry.epoch)
            w.write(bigEndian: Int32(entry.batches.count))
            for b in entry.batches {
                w.write(bigEndian: b.firstSequence)
                w.write(bigEndian: b.lastSequence)
                w.write(bigEndian: b.firstOffset)
                w.write(bigEndian: b.lastOffset)
            }
        }
    }

    /// Reads a table written by ``encode(into:)``.
    static func decode(_ r: inout ByteReader) throws(LogError) -> ProducerStateTable {
        var table = ProducerStateTable()
        let count: Int32 = try r.readInteger()
        guard count >= 0 else { throw LogError(.corruptData, "a producer table declares \(count) producers.") }
        for _ in 0..<count {
            let id: Int64 = try r.readInteger()
            let epoch: Int16 = try r.readInteger()
            let n: Int32 = try r.readInteger()
            guard n >= 0 && n <= 64 else { throw LogError(.corruptData, "a producer entry declares \(n) batches.") }
            var batches: [BatchMetadata] = []
            for _ in 0..<n {
                batches.append(BatchMetadata(firstSequence: try r.readInteger(), lastSequence: try r.readInteger(),
                                             firstOffset: try r.readInteger(), lastOffset: try r.readInteger()))
            }
            table.entries[id] = Entry(epoch: epoch, batches: batches, lastSeen: 0)
        }
        return table
    }

    /// The table as of `offset`: without the batches at or after it.
    func truncated(atOffset offset: Int64) -> ProducerStateTable {
        var copy = self
        copy.truncate(atOffset: offset)
        return copy
    }

    /// Forgets batches at or after `offset` (the log was truncated there).
    mutating func truncate(atOffset offset: Int64) {
        for (id, var entry) in entries where entry.batches.contains(where: { $0.lastOffset >= offset }) {
            entry.batches.removeAll { $0.lastOffset >= offset }
            entries[id] = entry.batches.isEmpty ? nil : entry
        }
    }
}
