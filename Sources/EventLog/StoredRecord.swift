/// A record as read back from a partition: the ``Record`` that was appended, at its offset,
/// with the timestamp it was stored with.
///
/// Its key, value and headers are views into the buffer the read filled (see ``RecordBytes``).
public struct StoredRecord: Hashable, Sendable {
    /// The record's offset in its partition.
    public let offset: Offset
    /// Milliseconds since the Unix epoch: the record's own, or the append's time.
    public let timestamp: Int64
    /// The key, or `nil`.
    public let key: RecordBytes?
    /// The value, or `nil` for a tombstone.
    public let value: RecordBytes?
    /// Headers, in order.
    public let headers: RecordHeaders

    /// The record as it is stored at `offset`, with `timestamp` (the record's own, or the time
    /// its append stamped when it had none).
    public init(_ record: Record, offset: Offset, timestamp: Int64) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = record.key
        self.value = record.value
        self.headers = record.headers
    }

    /// The record, to append it elsewhere (its timestamp kept).
    public var record: Record {
        Record(key: key, value: value, headers: headers, timestamp: timestamp)
    }
}
