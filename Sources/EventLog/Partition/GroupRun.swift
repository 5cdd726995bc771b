/// One group of appends on its way through the writer, and the answer each will get.
///
/// An append's answer is known at once when it is refused (a producer error) or when it
/// repeats an idempotent batch that is already acknowledged. A written batch's answer waits
/// for the group's fate: its sync under `fsync` durability, its publication otherwise. A
/// retry of a batch written earlier in the same group follows its original: it succeeds
/// with the original's offsets only if the original does.
struct GroupRun {
    enum Outcome {
        /// Answered: refused, failed, or a duplicate of an acknowledged batch.
        case answered(Result<OffsetRange, any Error>)
        /// Offsets assigned; its fate is the group's.
        case accepted
        /// A retry of the batch of this group that starts at this offset.
        case follows(Offset)
    }

    struct Entry {
        /// `nil` for the batch an inline writer is writing itself.
        var continuation: Partition.AppendWaiter?
        var batch: EncodedBatch?
        /// The offsets the batch got (or, for a retry, its original's).
        var range: OffsetRange
        var outcome: Outcome
    }

    private(set) var entries: [Entry] = []
    /// Accepted batches written to the file (they need a sync or a publication).
    private(set) var writtenCount = 0

    init(_ capacity: Int) {
        entries.reserveCapacity(capacity)
    }

    mutating func answer(_ p: Partition.PendingAppend, _ result: Result<OffsetRange, any Error>) {
        entries.append(Entry(continuation: p.continuation, batch: nil, range: OffsetRange(first: 0, end: 0), outcome: .answered(result)))
    }

    mutating func follow(_ p: Partition.PendingAppend, original: OffsetRange) {
        entries.append(Entry(continuation: p.continuation, batch: nil, range: original, outcome: .follows(original.first)))
    }

    /// Adds an accepted batch with its provisional offsets; returns its entry's index.
    mutating func accept(_ p: Partition.PendingAppend, range: OffsetRange) -> Int {
        entries.append(Entry(continuation: p.continuation, batch: p.batch, range: range, outcome: .accepted))
        return entries.count - 1
    }

    /// Counts accepted entries as written to the file.
    mutating func noteWritten(_ count: Int) {
        writtenCount += count
    }

    /// Fails accepted entries that were not written (a failed write or roll).
    mutating func fail(_ indices: some Sequence<Int>, _ error: any Error) {
        for i in indices { entries[i].outcome = .answered(.failure(error)) }
    }

    /// Decides every accepted batch: those ending at or before `acknowledgedEnd` succeed,
    /// the rest fail with `failure` (required when any can end after it).
    mutating func settle(acknowledgedEnd: Int64, failure: (any Error)?) {
        for i in entries.indices {
            guard case .accepted = entries[i].outcome else { continue }
            let range = entries[i].range
            if range.end.rawValue <= acknowledgedEnd {
                entries[i].outcome = .answered(.success(range))
            } else {
                entries[i].outcome = .answered(.failure(failure ?? LogError(.ioError, "the batch at offset \(range.first) was not written.")))
            }
        }
    }

    /// Every answer, retries resolved to their original's; call after ``settle(acknowledgedEnd:failure:)``.
    func resolved() -> [(continuation: Partition.AppendWaiter?, result: Result<OffsetRange, any Error>)] {
        entries.map { entry in
            switch entry.outcome {
            case .answered(let result):
                return (entry.continuation, result)
            case .follows(let first):
                let original = entries.first { e in
                    if case .answered = e.outcome, e.batch != nil, e.range.first == first { return true }
                    return false
                }
                if case .answered(let result)? = original?.outcome {
                    return (entry.continuation, result.map { _ in entry.range })
                }
                return (entry.continuation, .failure(LogError(.ioError, "the original of a retried batch at offset \(first) was not written; retry.")))
            case .accepted:
                preconditionFailure("an accepted batch was never settled")
            }
        }
    }
}
