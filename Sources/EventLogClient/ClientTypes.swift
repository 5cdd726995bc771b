public import Foundation

/// A record's value as `logd` stores it: bytes, which the API carries as JSON when they are
/// JSON text and as base64 otherwise.
public enum RecordValue: Sendable, Hashable {
    /// JSON text (`{"total": 12.5}`, `"a string"`, `42`); the server stores it without
    /// insignificant whitespace (`{"total":12.5}`), numbers and strings as written.
    case json(String)
    /// Any bytes (sent as `value_b64`).
    case bytes([UInt8])

    /// Whether the value can be sent as it is: bytes always; JSON text when it is exactly one
    /// JSON value (``EventLogClient/produce(_:to:idempotencyKey:)`` checks it before sending,
    /// since the text goes into the request as it is).
    public var isWellFormed: Bool {
        switch self {
        case .json(let text): RawJSON.parse(Array(text.utf8)) != nil
        case .bytes: true
        }
    }

    /// A string value: stored as its JSON text (quoted), as `{"value": "..."}` would.
    public static func string(_ text: String) -> RecordValue { .json(jsonString(text)) }

    /// The stored bytes.
    public var bytes: [UInt8] {
        switch self {
        case .json(let text): Array(text.utf8)
        case .bytes(let bytes): bytes
        }
    }

    /// Decodes a JSON value into `type`.
    public func decode<T: Decodable>(_ type: T.Type, using decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(bytes))
    }
}

/// A record to produce.
public struct OutgoingRecord: Sendable, Hashable {
    /// The key: records with the same key go to the same partition (Kafka's murmur2).
    public var key: String?
    /// The value; `nil` is a tombstone.
    public var value: RecordValue?
    /// Headers, in order; a `type` header names the event type of streams.
    public var headers: [(name: String, value: String)]
    /// A partition to append to, instead of the key's or round-robin.
    public var partition: Int?
    /// Milliseconds since the epoch; the server's clock when absent.
    public var timestamp: Int64?

    public init(key: String? = nil, value: RecordValue?, headers: [(name: String, value: String)] = [],
                partition: Int? = nil, timestamp: Int64? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
        self.timestamp = timestamp
    }

    /// A record whose value is `text`, stored as a JSON string.
    public init(key: String? = nil, text: String, type: String? = nil) {
        self.init(key: key, value: .string(text), headers: type.map { [("type", $0)] } ?? [])
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.key == b.key && a.value == b.value && a.partition == b.partition && a.timestamp == b.timestamp
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(value)
        hasher.combine(partition)
    }
}

/// Where an appended record went.
public struct RecordPosition: Sendable, Hashable, CustomStringConvertible {
    public var partition: Int
    public var offset: Int64

    public init(partition: Int, offset: Int64) {
        self.partition = partition
        self.offset = offset
    }

    public var description: String { "\(partition)@\(offset)" }
}

/// A record read back by ``EventLogClient/fetch(topic:partition:from:limit:wait:)``.
public struct FetchedRecord: Sendable, Hashable {
    public var partition: Int
    public var offset: Int64
    /// Milliseconds since the epoch.
    public var timestamp: Int64
    public var key: String?
    /// `nil` for a tombstone.
    public var value: RecordValue?
    public var headers: [String: String]
}

/// What a fetch answered.
public struct FetchResult: Sendable {
    public var records: [FetchedRecord]
    /// The offset to fetch next.
    public var nextOffset: Int64
    /// Set when the server skipped offsets: deleted by retention, or damaged on its disk
    /// (`reason` "damaged").
    public var gap: Gap?

    public struct Gap: Sendable, Hashable {
        public var requested: Int64
        public var resumedFrom: Int64
        public var reason: String?
    }
}

/// Where a fetch starts.
public enum FetchStart: Sendable, Hashable {
    case earliest
    case latest
    case offset(Int64)
    /// The first record at or after a time: milliseconds since the epoch, or ISO 8601.
    case time(String)

    var queryValue: String {
        switch self {
        case .earliest: "earliest"
        case .latest: "latest"
        case .offset(let o): String(o)
        case .time(let text): "time:" + text
        }
    }
}

/// A topic as `logd` describes it.
public struct TopicInfo: Sendable, Hashable {
    public var name: String
    public var partitions: [PartitionInfo]
    /// The topic's settings as the server answers them (`retention_ms`, `compression`, …),
    /// each as its JSON text.
    public var config: [String: String]

    public struct PartitionInfo: Sendable, Hashable {
        public var partition: Int
        public var startOffset: Int64
        public var endOffset: Int64
        public var sizeBytes: Int64
    }
}

/// A topic's settings for ``EventLogClient/createTopic(_:settings:)`` (`nil`: the server's
/// default) and ``EventLogClient/alterTopic(_:settings:)`` (`nil`: unchanged).
public struct TopicSettings: Sendable, Hashable {
    /// The number of partitions (1 to 10,000); to an alter, a larger count grows the topic
    /// (it never shrinks).
    public var partitions: Int?
    /// `delete`, `compact` or `compact,delete`.
    public var cleanupPolicy: String?
    /// Records older than this go (whole segments, by the cleaner).
    public var retention: Duration?
    /// Keeps records whatever their age (`retention_ms: -1`), instead of ``retention``.
    public var retentionForever = false
    public var retentionBytes: Int64?
    /// `none`, `lz4` or `zstd`.
    public var compression: String?
    /// `fsync`, `none`, `interval` (a sync every second) or `interval:<milliseconds>`.
    public var durability: String?

    public init(partitions: Int? = nil, cleanupPolicy: String? = nil, retention: Duration? = nil, retentionForever: Bool = false,
                retentionBytes: Int64? = nil, compression: String? = nil, durability: String? = nil) {
        self.partitions = partitions
        self.cleanupPolicy = cleanupPolicy
        self.retention = retention
        self.retentionForever = retentionForever
        self.retentionBytes = retentionBytes
        self.compression = compression
        self.durability = durability
    }

    var json: String {
        var fields: [String] = []
        if let partitions { fields.append("\"partitions\": \(partitions)") }
        if let cleanupPolicy { fields.append("\"cleanup_policy\": \(jsonString(cleanupPolicy))") }
        if retentionForever {
            fields.append("\"retention_ms\": -1")
        } else if let retention {
            let ms = retention.components.seconds * 1000 + retention.components.attoseconds / 1_000_000_000_000_000
            fields.append("\"retention_ms\": \(ms)")
        }
        if let retentionBytes { fields.append("\"retention_bytes\": \(retentionBytes)") }
        if let compression { fields.append("\"compression\": \(jsonString(compression))") }
        if let durability { fields.append("\"durability\": \(jsonString(durability))") }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}

/// One partition's committed offset in a consumer group.
public struct CommittedOffset: Sendable, Hashable {
    public var topic: String
    public var partition: Int
    /// The next offset to consume.
    public var offset: Int64
    public var metadata: String?

    public init(topic: String, partition: Int, offset: Int64, metadata: String? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.metadata = metadata
    }
}

/// How far a group is behind on one partition.
public struct PartitionLag: Sendable, Hashable {
    public var topic: String
    public var partition: Int
    public var committed: Int64
    public var endOffset: Int64
    public var lag: Int64
}
