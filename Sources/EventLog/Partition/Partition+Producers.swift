extension Partition {
    /// What the partition remembers of an idempotent producer: its epoch and the first
    /// sequence number and record count of each batch it still remembers (at most five), or
    /// `nil` when it has not seen the producer or has forgotten it (``ProducerStateTable``).
    ///
    /// For a caller that must know, before it appends, whether a stamped batch would be a
    /// duplicate (the server's `Idempotency-Key` check); the answer can be stale by the time
    /// of an append unless the caller is the producer's only writer.
    package func producerBatches(_ producerID: Int64) -> (epoch: Int16, batches: [(firstSequence: Int32, count: Int)])? {
        state.withLock { s in
            guard let entry = s.producers.entries[producerID] else { return nil }
            return (entry.epoch, entry.batches.map { ($0.firstSequence, Int($0.lastOffset - $0.firstOffset + 1)) })
        }
    }
}
