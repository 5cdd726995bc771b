import Synchronization

/// The records of one partition from a start position on: replays what is stored, then
/// waits for appends and yields them as they are published. Never ends by itself; it ends
/// when the task is cancelled or the partition closes.
///
/// Memory stays bounded: it holds at most two reads' worth of records (``readAheadBytes``
/// each): the records being handed out, and, while stored records remain past them, the
/// next read, which the store's I/O threads make as the records before it are consumed.
/// The records are views into the reads' buffers (see ``StoredRecord``). When retention
/// deletes records it has not read yet, it continues from the new start.
///
/// When it reaches stored data that is damaged (a batch that fails its checksum), `next()`
/// throws ``LogError/Code/corruptData`` whose ``LogError/range`` names the unreadable offsets.
/// The iterator has then already moved past them: calling `next()` again continues with the
/// first record after the range, so a reader that wants to go on keeps its iterator:
///
/// ```swift
/// var records = partition.records(from: .earliest).makeAsyncIterator()
/// while true {
///     do {
///         guard let record = try await records.next() else { break }
///         handle(record)
///     } catch let error as LogError where error.code == .corruptData {
///         report(error.range!)  // lost; reading goes on after it
///     }
/// }
/// ```
///
/// (A `for try await` loop ends at the error; start a new sequence at
/// `.offset(error.range!.end)` to go on from there.)
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
    ///
    /// `next()` hands out the records of the last read from an inlinable fast path, so that a
    /// `for try await` loop pays no async call per record; only the next read (once per
    /// ``readAheadRecords`` records or so) goes through an out-of-line call.
    public struct Iterator: AsyncIteratorProtocol {
        let partition: Partition
        var start: StartPosition?
        var nextOffset: Int64 = 0
        /// The records of the last read, handed out from ``bufferIndex`` on.
        @usableFromInline var buffer: [StoredRecord] = []
        @usableFromInline var bufferIndex = 0
        let maxBytes: Int
        let maxRecords: Int
        /// The read from `nextOffset` on, already under way on the I/O threads.
        var readAhead: ReadAhead?

        init(partition: Partition, start: StartPosition, maxBytes: Int, maxRecords: Int) {
            self.partition = partition
            self.start = start
            self.maxBytes = maxBytes
            self.maxRecords = maxRecords
        }

        /// The next record, waiting for one to be appended when none is there yet.
        ///
        /// - Returns: `nil` once the task is cancelled or the partition is closed.
        /// - Throws: ``LogError/Code/corruptData`` with the unreadable ``LogError/range`` (the
        ///   next call continues after it); ``LogError/Code/offsetOutOfRange`` when the start
        ///   cannot be resolved.
        @inlinable
        public mutating func next() async throws -> StoredRecord? {
            if bufferIndex < buffer.count {
                defer { bufferIndex += 1 }
                return buffer[bufferIndex]
            }
            return try await nextRead(isolation: nil)
        }

        /// ``next()``, as a `for try await` loop calls it (the same fast path).
        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> StoredRecord? {
            if bufferIndex < buffer.count {
                defer { bufferIndex += 1 }
                return buffer[bufferIndex]
            }
            return try await nextRead(isolation: actor)
        }

        /// Reads the next records (or waits for them), then hands out the first.
        @usableFromInline
        mutating func nextRead(isolation actor: isolated (any Actor)?) async throws -> StoredRecord? {
            if let start {
                nextOffset = try await partition.resolve(start).rawValue
                self.start = nil
            }
            while bufferIndex == buffer.count {
                if Task.isCancelled { return nil }
                let result: Partition.ReadResult
                do {
                    if let ahead = readAhead.take(), ahead.offset == nextOffset {
                        result = try await ahead.result()
                    } else {
                        result = try await partition.read(from: Offset(nextOffset), maxRecords: maxRecords, maxBytes: maxBytes)
                    }
                } catch LogError.Code.offsetOutOfRange {
                    let (start, end) = (partition.startOffset.rawValue, partition.endOffset.rawValue)
                    if nextOffset < start { nextOffset = start; continue }
                    if nextOffset > end { nextOffset = end; continue }
                    throw LogError(.offsetOutOfRange, "offset \(nextOffset) is outside partition \(partition.topicName)/\(partition.index).")
                } catch LogError.Code.closed {
                    return nil
                } catch let error as LogError where error.code == .corruptData && error.range != nil {
                    // Skip the damage on the next call; the caller learns the range now.
                    nextOffset = Swift.max(nextOffset, error.range!.end.rawValue)
                    throw error
                }
                buffer = result.records
                bufferIndex = 0
                nextOffset = result.nextOffset.rawValue
                if buffer.isEmpty {
                    if partition.state.withLock({ $0.closed }) { return nil }
                    _ = await partition.waitForRecords(at: Offset(nextOffset), timeout: .seconds(3600))
                } else if nextOffset < partition.endOffset.rawValue {
                    // More is stored: read it while these records are handed out.
                    readAhead = ReadAhead(partition, from: nextOffset, maxRecords: maxRecords, maxBytes: maxBytes)
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

/// One read of a partition made ahead, on the store's I/O threads, for a ``RecordSequence``:
/// its result waits here for the iterator to come for it.
final class ReadAhead: Sendable {
    private enum State {
        case reading
        case waiting(CheckedContinuation<Partition.ReadResult, any Error>)
        case done(Result<Partition.ReadResult, any Error>)
    }

    /// Where the read starts.
    let offset: Int64
    /// The read's limits.
    let maxRecords: Int, maxBytes: Int
    private let state = Mutex(State.reading)

    /// Starts reading from `offset` on `partition`'s I/O threads.
    init(_ partition: Partition, from offset: Int64, maxRecords: Int, maxBytes: Int) {
        self.offset = offset
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
        let submitted = partition.executor.submit { [self] in
            finish(Result { try partition.readBlocking(from: Offset(offset), maxRecords: maxRecords, maxBytes: maxBytes) })
        }
        if !submitted { finish(.failure(LogError(.closed, "the store is closed."))) }
    }

    private func finish(_ result: Result<Partition.ReadResult, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Partition.ReadResult, any Error>? in
            guard case .waiting(let continuation) = state else {
                state = .done(result)
                return nil
            }
            state = .done(result)
            return continuation
        }
        waiter?.resume(with: result)
    }

    /// The read's result, once it is there.
    func result() async throws -> Partition.ReadResult {
        try await withCheckedThrowingContinuation { continuation in
            let done = state.withLock { state -> Result<Partition.ReadResult, any Error>? in
                if case .done(let result) = state { return result }
                state = .waiting(continuation)
                return nil
            }
            if let done { continuation.resume(with: done) }
        }
    }
}
