import EventLog

extension StreamReadCache {
    /// A tail of `topic` from `position` that reads through this cache: each item's content is
    /// its record's event, encoded once (from the read's buffer) for every stream, without the
    /// `id:` line, which is each stream's own cursor. The cache keeps the events, not the
    /// records, so a cached chunk does not keep its read's buffers alive.
    ///
    /// - Throws: ``LogError/Code/invalidArgument`` when the position has another number of
    ///   partitions than the topic.
    func tail(of topic: Topic, from position: TopicPosition, encoder: ServerSentEventEncoder) throws(LogError) -> TopicTail<[UInt8]> {
        try TopicTail(topic: topic, from: position) { partition, from, maxRecords, maxBytes in
            let chunk = try await self.read(partition, from: from, maxRecords: maxRecords, maxBytes: maxBytes, encoder: encoder)
            return .init(positions: chunk.positions, contents: chunk.events)
        }
    }
}
