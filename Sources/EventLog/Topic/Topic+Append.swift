extension Topic {
    /// Appends records to the topic, each to the partition its key picks, and returns where
    /// each went, in the order given.
    ///
    /// A keyed record goes to ``partitionIndex(forKey:)`` (Kafka's murmur2 partitioner, so a
    /// key lands where a Kafka producer would put it, and all of a key's records stay in
    /// order in one partition). The keyless records of one call all go to one partition, the
    /// next in turn (``nextRoundRobinPartition()``), so successive calls spread over the
    /// partitions and each call's keyless records stay together.
    ///
    /// The records bound for one partition are appended as one batch, atomically, at
    /// consecutive offsets (``Partition/append(_:producer:)``); the partitions are written
    /// concurrently. Returns once every batch is as durable as the topic's
    /// ``TopicConfiguration/durability`` promises (with `.fsync`: on stable storage).
    ///
    /// ```swift
    /// let placed = try await orders.append([
    ///     Record(key: "order-17", value: "placed"),
    ///     Record(key: "order-18", value: "placed"),
    /// ])
    /// placed[0].partition, placed[0].offset   // where order-17's record is
    /// ```
    ///
    /// - Parameter records: the records; none appends nothing.
    /// - Returns: each record's partition and offset, in the order of `records`.
    /// - Throws: the first error of a partition's append (``Partition/append(_:producer:)``),
    ///   such as ``LogError/Code/internalTopic`` for an internal topic. The batches of other
    ///   partitions may have been appended meanwhile: each batch is atomic, the call is not.
    @discardableResult
    public func append(_ records: [Record]) async throws -> [PartitionOffset] {
        guard !records.isEmpty else { return [] }
        let assignment = partitionIndices(for: records)
        let first = assignment[0]
        if assignment.allSatisfy({ $0 == first }) {
            let range = try await partitions[first].append(records)
            return (0..<records.count).map { PartitionOffset(partition: first, offset: range.first + Int64($0)) }
        }
        var shares: [Int: [Record]] = [:]
        for (record, index) in zip(records, assignment) { shares[index, default: []].append(record) }
        let starts = try await withThrowingTaskGroup(of: (Int, Offset).self) { group in
            for (index, share) in shares {
                let partition = partitions[index]
                group.addTask { (index, try await partition.append(share).first) }
            }
            var starts = Array(repeating: Offset(0), count: partitions.count)
            for try await (index, first) in group { starts[index] = first }
            return starts
        }
        var next = starts
        return assignment.map { index in
            defer { next[index] += 1 }
            return PartitionOffset(partition: index, offset: next[index])
        }
    }

    /// The partition of each record: its key's, or for every keyless one the next partition in turn.
    func partitionIndices(for records: [Record]) -> [Int] {
        var keyless: Int?
        return records.map { record in
            if let key = record.key { return partitionIndex(forKey: key) }
            if keyless == nil { keyless = nextRoundRobinPartition() }
            return keyless!
        }
    }
}
