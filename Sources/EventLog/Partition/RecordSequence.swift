/// The records of one partition from a start position on: replays what is stored, then
/// waits for appends and yields them as they are published. Never ends by itself; it ends
/// when the task is cancelled or the partition closes.
///
/// Memory stays bounded: it holds at most one read's worth of records (``readAheadBytes``).
/// When retention deletes records it has not read yet, it continues from the new start.
public struct RecordSequence: AsyncSequence, Sendable {
    public typealias Element = StoredRecord

    let partition: Partition
    let start: StartPosition
    /// The most bytes of log one read brings into memory.
    public var readAheadBytes: Int = 256 << 10
    /// The most records one read brings into memory.
    public var readAheadRecords: Int = 4096

    public func makeAsyncIterator() -> Iterator {
        Iterator(partition: partition, start: start, maxBytes: readAheadBytes, maxRecords: readAheadRecords)
    }

    /// Reads ahead in bounded steps and waits on the partition between them.
    public struct Iterator: AsyncIteratorProtocol {
        let partition: Partition
        var start: StartPosition?
        var next: Int64 = 0
        var buffer: [StoredRecord] = []
        var bufferIndex = 0
        let maxBytes: Int
        let maxRecords: Int

        init(partition: Partition, start: StartPosition, maxBytes: Int, maxRecords: Int) {
            self.partition = partition
            self.start = start
            self.maxBytes = maxBytes
            self.maxRecords = maxRecords
        }

        public mutating func next() async throws -> StoredRecord? {
            if let start {
                next = try await partition.resolve(start).rawValue
                self.start = nil
            }
            while bufferIndex == buffer.count {
                if Task.isCancelled { return nil }
                let result: Partition.ReadResult
                do {
                    result = try await partition.read(from: Offset(next), maxRecords: maxRecords, maxBytes: maxBytes)
                } catch LogError.Code.offsetOutOfRange {
                    let (start, end) = (partition.startOffset.rawValue, partition.endOffset.rawValue)
                    if next < start { next = start; continue }
                    if next > end { next = end; continue }
                    throw LogError(.offsetOutOfRange, "offset \(next) is outside partition \(partition.topicName)/\(partition.index).")
                } catch LogError.Code.closed {
                    return nil
                }
                buffer = result.records
                bufferIndex = 0
                next = result.nextOffset.rawValue
                if buffer.isEmpty {
                    if partition.state.withLock({ $0.closed }) { return nil }
                    _ = await partition.waitForRecords(at: Offset(next), timeout: .seconds(3600))
                }
            }
            defer { bufferIndex += 1 }
            return buffer[bufferIndex]
        }
    }
}

extension Partition {
    /// The records from `start` on: a replay that turns into a live tail. See ``RecordSequence``.
    public func records(from start: StartPosition) -> RecordSequence {
        RecordSequence(partition: self, start: start)
    }

    /// The offset a start position means right now.
    public func resolve(_ start: StartPosition) async throws -> Offset {
        switch start {
        case .earliest: return startOffset
        case .latest: return endOffset
        case .offset(let o): return min(max(o, startOffset), endOffset)
        case .timestamp(let ms): return try await offset(forTimestamp: ms)
        }
    }
}
