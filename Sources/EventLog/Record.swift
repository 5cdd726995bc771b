/// A record to append: an optional key, a value (none makes a tombstone), headers and a time.
///
/// Keys and values are strings (their UTF-8) or bytes, whichever is at hand:
///
/// ```swift
/// Record(value: "hello")
/// Record(key: "order-17", value: jsonBytes, headers: ["type": "order.placed"])
/// Record(key: userID, value: nil)          // a tombstone: compaction deletes the key
/// ```
///
/// Any ``RecordBytesConvertible`` goes (`String`, `Substring`, `[UInt8]`, ``RecordBytes``);
/// `nil` and literals are unambiguous. Headers keep the order they are given in.
public struct Record: Hashable, Sendable {
    /// The key, used for partitioning and compaction; `nil` for none.
    public var key: RecordBytes?
    /// The value; `nil` is a tombstone, which compaction reads as "delete this key".
    public var value: RecordBytes?
    /// Headers, in order; names may repeat.
    public var headers: RecordHeaders
    /// Milliseconds since the Unix epoch; `nil` lets the append stamp the current time.
    public var timestamp: Int64?

    /// Makes a record whose key and value are literals or `nil`: `Record(value: nil)`,
    /// `Record(key: "k", value: [0xFF])`.
    public init(key: RecordBytes? = nil, value: RecordBytes?, headers: RecordHeaders = [], timestamp: Int64? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// Makes a record from a value of any ``RecordBytesConvertible`` type, with a key that is
    /// a literal or `nil`: `Record(value: payload)`, `Record(key: "k", value: text)`.
    public init<Value: RecordBytesConvertible>(
        key: RecordBytes? = nil, value: Value?, headers: RecordHeaders = [], timestamp: Int64? = nil
    ) {
        self.init(key: key, value: value?.recordBytes, headers: headers, timestamp: timestamp)
    }

    /// Makes a record from a key and a value of any ``RecordBytesConvertible`` types:
    /// `Record(key: userID, value: payload)`.
    public init<Key: RecordBytesConvertible, Value: RecordBytesConvertible>(
        key: Key?, value: Value?, headers: RecordHeaders = [], timestamp: Int64? = nil
    ) {
        self.init(key: key?.recordBytes, value: value?.recordBytes, headers: headers, timestamp: timestamp)
    }

    /// Makes a record from a key of any ``RecordBytesConvertible`` type and a value that is a
    /// literal or `nil`: `Record(key: userID, value: nil)` is a tombstone.
    public init<Key: RecordBytesConvertible>(
        key: Key?, value: RecordBytes?, headers: RecordHeaders = [], timestamp: Int64? = nil
    ) {
        self.init(key: key?.recordBytes, value: value, headers: headers, timestamp: timestamp)
    }
}
