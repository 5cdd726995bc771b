import Synchronization

extension Partition {
    /// Appends records as one batch, atomically: all get consecutive offsets, or none is written.
    ///
    /// The batch is encoded and compressed on the calling task; the partition's writer then
    /// writes it with other waiting batches in one `pwrite(2)`. Returns after the batch is on
    /// stable storage (`fdatasync(2)`) when the topic's durability is `.fsync` (shared with
    /// every append waiting at that moment), or once written for `.interval` and `.none`.
    ///
    /// - Parameters:
    ///   - records: one or more records.
    ///   - producer: an idempotent producer's stamp; a batch already accepted from the same
    ///     producer, epoch and sequence returns its original offsets and writes nothing.
    /// - Returns: the offsets the records received.
    /// - Throws: ``LogError`` with ``LogError/Code/internalTopic`` for a partition of an
    ///   internal topic (only the library writes those), ``LogError/Code/diskFull`` (nothing
    ///   became visible, retry once space is back), ``LogError/Code/recordTooLarge``, ``LogError/Code/closed``,
    ///   ``LogError/Code/readOnly`` (a sync failed earlier: see ``writeFailure``),
    ///   ``LogError/Code/ioError``, or a producer error.
    @discardableResult
    public func append(_ records: [Record], producer: ProducerStamp? = nil) async throws -> OffsetRange {
        // Encoded here, and appended below, without the calls `encode(_:producer:)` and
        // `appendNow(encoded:)`: through them the 1-task `append-none` benchmark gave 3.20 and
        // 2.61 M rec/s against 3.61 and 3.83 for this path, and 3.41 and 3.79 once restored
        // (`eventlog-bench --only append-none`, interleaved, 2026-12-02).
        let batch = try EncodedBatch(records: records, codec: configuration.compression, producer: producer, now: clock.now())
        return try await append(encoded: batch)
    }

    /// Appends one record.
    @discardableResult
    public func append(_ record: Record) async throws -> Offset {
        try await append([record]).first
    }

    /// Appends a batch encoded beforehand (by ``EncodedBatch/init(records:codec:producer:now:)``).
    ///
    /// With `none` or `interval` durability and no writer running, the calling task writes the
    /// batch itself (a `pwrite(2)` into the page cache, as Kafka's request threads do) and
    /// returns without a thread hop; otherwise the batch joins the queue of the running writer.
    ///
    /// - Throws: as ``append(_:producer:)``.
    public func append(encoded batch: EncodedBatch) async throws -> OffsetRange {
        guard !isInternal else { throw internalTopicRefusal }
        try checkBatchSize(batch)
        if configuration.durability != .fsync, let result = try appendInline(CollectionOfOne(batch)) {
            return try result[0].get()
        }
        return try await withCheckedThrowingContinuation { continuation in enqueue(batch, continuation: continuation) }
    }

    /// Internal topics are the library's own: its writers (the group coordinator) queue their
    /// batches with `enqueue(_:continuation:)`, which does not check this.
    private var internalTopicRefusal: LogError {
        LogError(.internalTopic, "topic \(topicName) is internal: only the library writes to it, clients cannot.")
    }

    /// Encodes `records` as one batch the way ``append(_:producer:)`` does: with the topic's
    /// compression, stamped with the partition's clock. For ``appendNow(encoded:)-(EncodedBatch)``, whose
    /// caller falls back to ``append(encoded:)`` with the same batch.
    ///
    /// - Throws: ``LogError`` when the records cannot be encoded (too many, or too large).
    public func encode(_ records: [Record], producer: ProducerStamp? = nil) throws(LogError) -> EncodedBatch {
        try EncodedBatch(records: records, codec: configuration.compression, producer: producer, now: clock.now())
    }

    /// Appends `batch` on the calling thread when that needs no wait, as
    /// ``append(encoded:)`` does in that case: the topic's durability is `none` or `interval`,
    /// no other append is being written, and the batch fits in the active segment. For callers
    /// that answer without a task when they can (the server's produce from an event loop).
    ///
    /// - Returns: the offsets the records received; `nil` when the append would wait. Then
    ///   nothing was written and nothing changed: ``append(encoded:)`` appends the batch.
    /// - Throws: as ``append(_:producer:)``, and only when the append was refused or failed
    ///   (an error is never a reason to retry on the waiting path).
    public func appendNow(encoded batch: EncodedBatch) throws -> OffsetRange? {
        guard !isInternal else { throw internalTopicRefusal }
        try checkBatchSize(batch)
        guard configuration.durability != .fsync else { return nil }
        return try appendInline(CollectionOfOne(batch))?[0].get()
    }

    /// Appends `batches` on the calling thread when that needs no wait, as
    /// ``appendNow(encoded:)-(EncodedBatch)`` does for one batch: each batch is appended as if by its own
    /// call, in order (each gets consecutive offsets after the one before it), and all are
    /// written with one `pwritev(2)`. For callers that gather the appends of many requests
    /// before writing them (the server's produces of one event-loop pass).
    ///
    /// - Returns: for each batch, in order, the offsets its records received or why it was
    ///   refused (``LogError/Code/recordTooLarge``) or failed; `nil` when the appends would
    ///   wait. Then nothing was written and nothing changed: ``append(encoded:)`` appends each.
    /// - Throws: ``LogError`` when every batch is refused: a partition of an internal topic,
    ///   a closed partition, one that refuses writes after a failed sync.
    public func appendNow(encoded batches: [EncodedBatch]) throws -> [Result<OffsetRange, any Error>]? {
        guard !isInternal else { throw internalTopicRefusal }
        guard configuration.durability != .fsync else { return nil }
        guard !batches.isEmpty else { return [] }
        if batches.allSatisfy({ $0.bytes.count <= configuration.maxBatchBytes }) {
            return try appendInline(batches)
        }
        // Some are too large: those are refused, the others appended.
        var refusals: [LogError?] = []
        refusals.reserveCapacity(batches.count)
        var fitting: [EncodedBatch] = []
        for batch in batches {
            do {
                try checkBatchSize(batch)
                fitting.append(batch)
                refusals.append(nil)
            } catch {
                refusals.append(error)
            }
        }
        guard let written = fitting.isEmpty ? [] : try appendInline(fitting) else { return nil }
        var next = written.makeIterator()
        return refusals.map { refusal in
            if let refusal { return .failure(refusal) }
            return next.next()!
        }
    }

    private func checkBatchSize(_ batch: EncodedBatch) throws(LogError) {
        guard batch.bytes.count <= configuration.maxBatchBytes else {
            throw LogError(.recordTooLarge, "a batch of \(batch.bytes.count) bytes exceeds the topic's limit of \(configuration.maxBatchBytes) bytes.")
        }
    }

    /// Queues `batch` for the writer and returns at once; `continuation` is resumed with its
    /// offsets once it is written (and synced, under `fsync`), or with the error.
    ///
    /// Batches take their places in the log in the order of their `enqueue` calls: a caller
    /// that must order an append after a check (the group coordinator's fencing) makes both
    /// in one synchronous step.
    ///
    /// The library's own path into internal topics: unlike ``append(encoded:)`` it does not
    /// refuse them.
    func enqueue(_ batch: EncodedBatch, continuation: CheckedContinuation<OffsetRange, any Error>) {
        enqueue(CollectionOfOne(batch), waiters: CollectionOfOne(.task(continuation)))
    }

    /// Queues `batches` for the writer, in order, with one lock taken; each waiter is resumed
    /// with its batch's result.
    private func enqueue(_ batches: some Collection<EncodedBatch>, waiters: some Collection<AppendWaiter>) {
        var refused: [(AppendWaiter, LogError)] = []
        let admission = state.withLock { s -> Admission in
            if let refusal = refusal(s) { return .refused(refusal) }
            for (batch, waiter) in zip(batches, waiters) {
                do throws(LogError) {
                    try checkBatchSize(batch)
                    s.pending.append(PendingAppend(batch: batch, continuation: waiter))
                } catch {
                    refused.append((waiter, error))
                }
            }
            if s.writerScheduled || refused.count == batches.count { return .queued }
            s.writerScheduled = true
            return .scheduleWriter
        }
        for (waiter, error) in refused { waiter.resume(throwing: error) }
        switch admission {
        case .refused(let error): for waiter in waiters { waiter.resume(throwing: error) }
        case .queued: break
        case .scheduleWriter:
            // The pool is gone (the store closed meanwhile): write on this thread instead.
            if !executor.submit({ self.drain() }) { drain() }
        }
    }

    /// Appends `batches` as ``append(encoded:)`` appends each, in order, and calls `completion`
    /// once with every result, in order, when the last is decided (written, and synced under
    /// `fsync` durability), on the thread that decided it (one of the store's I/O threads, or
    /// the caller's). No task waits: for callers that answer from an event loop (the server's
    /// produces of one event-loop pass that ``appendNow(encoded:)-([EncodedBatch])`` could not write).
    ///
    /// - Parameters:
    ///   - batches: batches from ``encode(_:producer:)``; each gets consecutive offsets after
    ///     the one before it, or its own error.
    ///   - completion: called exactly once, with one result per batch.
    public func append(encoded batches: [EncodedBatch],
                       completion: @escaping @Sendable (_ results: [Result<OffsetRange, any Error>]) -> Void) {
        guard !isInternal else { return completion(batches.map { _ in .failure(internalTopicRefusal) }) }
        guard !batches.isEmpty else { return completion([]) }
        let results = AppendResults(count: batches.count, completion: completion)
        enqueue(batches, waiters: batches.indices.map { index in .callback { results.set(index, $0) } })
    }

    private enum Admission {
        case refused(LogError)
        case queued
        case scheduleWriter
    }

    /// Why an append must be refused now, if it must: the partition closed, or it refuses
    /// writes after a failed sync.
    func refusal(_ s: State) -> LogError? {
        if let failure = s.writeFailure { return failure }
        if s.closed { return LogError(.closed, "partition \(topicName)/\(index) is closed.") }
        return nil
    }

    /// Why the partition refuses appends, or `nil` while it accepts them.
    ///
    /// Once an `fdatasync(2)` of the partition's files has failed, or a failed write could
    /// not be cut back, nothing the partition wrote after its last successful sync can be
    /// trusted (the kernel may have dropped those pages; PostgreSQL's "fsyncgate"). From then
    /// on every append fails with this ``LogError/Code/readOnly`` error, reads keep serving
    /// what was visible, and close leaves the store marked unclean so that the next open
    /// recovers from the last successful sync. Reopen the store to accept writes again.
    public var writeFailure: LogError? { state.withLock { $0.writeFailure } }

    // MARK: The inline writer (none and interval durability)

    /// The most queued groups an inline writer writes for others before it hands the queue
    /// to the I/O threads, so that its own append returns in bounded time.
    static let maxInlineRounds = 8

    /// Writes `batches` on the calling thread when the writer is idle and they fit in the
    /// active segment (a roll syncs, which is the I/O threads' work); `nil` when it cannot.
    /// Returns each batch's result, in order.
    ///
    /// The caller holds the writer role while it writes: appends arriving meanwhile queue
    /// as usual, and the caller writes them too (a bounded number of groups) before it
    /// lets the role go or hands it to the I/O threads.
    private func appendInline(_ batches: some Collection<EncodedBatch>) throws(LogError) -> [Result<OffsetRange, any Error>]? {
        let active = try state.withLock { s throws(LogError) -> Segment? in
            if let refusal = refusal(s) { throw refusal }
            guard !s.writerScheduled else { return nil }
            s.writerScheduled = true
            return s.segments.last!
        }
        guard let active else { return nil }
        if mustRoll(active, forGroupOf: batches.count, bytes: batches.reduce(0) { $0 + $1.bytes.count }) {
            releaseWriter()
            return nil
        }
        var own: [Result<OffsetRange, any Error>] = []
        own.reserveCapacity(batches.count)
        var group = batches.map { PendingAppend(batch: $0, continuation: nil) }
        for _ in 0..<Self.maxInlineRounds {
            var run = GroupRun(group.count)
            write(group, into: &run)
            publish(&run)
            // A group's entries are in its order, so the caller's results come in theirs.
            for c in run.resolved() {
                if let waiter = c.continuation { waiter.resume(with: c.result) } else { own.append(c.result) }
            }
            let (taken, segment) = state.withLock { s in (s.takePending(), s.segments.last!) }
            group = taken
            // A group that would roll the segment is left to the I/O threads, like a batch; so
            // is every group once the topic's durability became `fsync` (an alter): appends
            // queued after that must not be acknowledged without a sync. Loaded after taking
            // the group, so it sees the change any of its appends saw.
            if group.isEmpty || configuration.durability == .fsync
                || mustRoll(segment, forGroupOf: group.count, bytes: group.reduce(0) { $0 + $1.batch.bytes.count }) { break }
        }
        if !group.isEmpty {
            // Still busy, or a roll is due: the I/O threads take over, starting with what was just taken.
            state.withLock { $0.pending.insert(contentsOf: group, at: 0) }
        }
        releaseWriter()
        return own
    }

    /// Gives up the writer role: to the I/O threads when appends are queued, else to nobody
    /// (resuming a waiting close).
    func releaseWriter() {
        let (schedule, idle) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
            s.pending.isEmpty ? (false, s.releaseWriterRole()) : (true, [])
        }
        for c in idle { c.resume() }
        if schedule, !executor.submit({ self.drain() }) { drain() }
    }
}

/// The results of the batches of one ``Partition/append(encoded:completion:)``, collected as
/// the writer decides them; the last one calls the completion.
private final class AppendResults: Sendable {
    private let state: Mutex<(results: [Result<OffsetRange, any Error>?], remaining: Int)>
    private let completion: @Sendable ([Result<OffsetRange, any Error>]) -> Void

    init(count: Int, completion: @escaping @Sendable ([Result<OffsetRange, any Error>]) -> Void) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.completion = completion
    }

    func set(_ index: Int, _ result: Result<OffsetRange, any Error>) {
        let done = state.withLock { s -> [Result<OffsetRange, any Error>]? in
            s.results[index] = result
            s.remaining -= 1
            return s.remaining == 0 ? s.results.map { $0! } : nil
        }
        if let done { completion(done) }
    }
}
