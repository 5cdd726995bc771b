/// A record to append: an optional key, a value (none makes a tombstone), headers and a time.
public struct Record: Hashable, Sendable {
    /// The key, used for partitioning and compaction; `nil` for none.
    public var key: [UInt8]?
    /// The value; `nil` is a tombstone, which compaction reads as "delete this key".
    public var value: [UInt8]?
    /// Headers, in order; names may repeat.
    public var headers: [RecordHeader]
    /// Milliseconds since the Unix epoch; `nil` lets the append stamp the current time.
    public var timestamp: Int64?

    /// Makes a record from bytes.
    public init(key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// Makes a record with a string key and string headers.
    public init(key: String?, value: [UInt8]?, headers: [String: String] = [:], timestamp: Int64? = nil) {
        self.key = key.map { Array($0.utf8) }
        self.value = value
        self.headers = headers.sorted { $0.key < $1.key }.map { RecordHeader(name: $0.key, value: $0.value) }
        self.timestamp = timestamp
    }

    /// The bytes of the first header named `name`, if any.
    public func header(_ name: String) -> [UInt8]? {
        headers.first { $0.name == name }?.value
    }
}

/// A record as read back from a partition, with its offset and timestamp.
public struct StoredRecord: Hashable, Sendable {
    /// The record's offset in its partition.
    public var offset: Offset
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64
    /// The key, or `nil`.
    public var key: [UInt8]?
    /// The value, or `nil` for a tombstone.
    public var value: [UInt8]?
    /// Headers, in order.
    public var headers: [RecordHeader]

    /// Makes a stored record.
    public init(offset: Offset, timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader]) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// The bytes of the first header named `name`, if any.
    public func header(_ name: String) -> [UInt8]? {
        headers.first { $0.name == name }?.value
    }
}

/// The identity of an idempotent producer for one append (Kafka's producer id, epoch and sequence).
public struct ProducerStamp: Hashable, Sendable {
    /// The producer's id (non-negative).
    public var producerID: Int64
    /// The producer's epoch; a newer epoch fences older ones.
    public var epoch: Int16
    /// The sequence number of the batch's first record.
    public var baseSequence: Int32

    /// Makes a stamp.
    public init(producerID: Int64, epoch: Int16, baseSequence: Int32) {
        self.producerID = producerID
        self.epoch = epoch
        self.baseSequence = baseSequence
    }
}
