/// The records of the internal offsets topic: one per (group, topic, partition) key, the
/// latest of which is the committed position; a tombstone deletes it. Compaction therefore
/// keeps exactly the state a replay needs (see Docs/CONSUMER-GROUPS.md).
///
/// Key, big-endian: `u16 version = 1`, `u16 length` + group name, `u16 length` + topic name,
/// `i32 partition`. Value: `u16 version = 1`, `i64 offset`, `i64 commit time (ms)`,
/// `i32 metadata length` (`-1` for none) + UTF-8 metadata.
struct OffsetCommitRecord: Hashable, Sendable {
    var group: String
    var topicPartition: TopicPartition
    /// `nil` for a deletion.
    var committed: CommittedOffset?
    /// When it was committed (ms since the epoch, the coordinator's clock), as decoded; `nil`
    /// for a deletion and for a record being made (``record(now:)`` stamps it).
    var committedAt: Int64?

    static let version: UInt16 = 1

    var key: [UInt8] {
        var w = ByteWriter(capacity: 12 + group.utf8.count + topicPartition.topic.utf8.count)
        w.write(bigEndian: Self.version)
        w.write(bigEndian: UInt16(group.utf8.count))
        w.write(Array(group.utf8))
        w.write(bigEndian: UInt16(topicPartition.topic.utf8.count))
        w.write(Array(topicPartition.topic.utf8))
        w.write(bigEndian: Int32(topicPartition.partition))
        return w.bytes
    }

    func value(now: Int64) -> [UInt8]? {
        guard let committed else { return nil }
        var w = ByteWriter(capacity: 24)
        w.write(bigEndian: Self.version)
        w.write(bigEndian: committed.offset.rawValue)
        w.write(bigEndian: now)
        if let metadata = committed.metadata {
            w.write(bigEndian: Int32(metadata.utf8.count))
            w.write(Array(metadata.utf8))
        } else {
            w.write(bigEndian: Int32(-1))
        }
        return w.bytes
    }

    func record(now: Int64) -> Record {
        Record(key: key, value: value(now: now), timestamp: now)
    }

    /// Decodes a stored record; `nil` for a record of a version this build does not know.
    init?(_ stored: StoredRecord) {
        guard let key = stored.key else { return nil }
        var r = Reader(key)
        guard r.u16() == Self.version, let group = r.text(length: r.u16().map(Int.init)),
              let topic = r.text(length: r.u16().map(Int.init)), let partition = r.i32(), r.atEnd
        else { return nil }
        self.group = group
        self.topicPartition = TopicPartition(topic, Int(partition))
        guard let value = stored.value else {
            self.committed = nil
            return
        }
        var v = Reader(value)
        guard v.u16() == Self.version, let offset = v.i64(), let committedAt = v.i64(), let length = v.i32() else { return nil }
        self.committedAt = committedAt
        var metadata: String?
        if length >= 0 {
            guard let text = v.text(length: Int(length)) else { return nil }
            metadata = text
        }
        self.committed = CommittedOffset(Offset(offset), metadata: metadata)
    }

    init(group: String, topicPartition: TopicPartition, committed: CommittedOffset?) {
        self.group = group
        self.topicPartition = topicPartition
        self.committed = committed
    }

    /// A bounds-checked big-endian reader over a record's key or value.
    private struct Reader {
        let bytes: RecordBytes
        var index = 0
        init(_ bytes: RecordBytes) { self.bytes = bytes }
        var atEnd: Bool { index == bytes.count }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard index + size <= bytes.count else { return nil }
            var value: T = 0
            for b in bytes[index..<index + size] { value = value << 8 | T(b) }
            index += size
            return value
        }
        mutating func u16() -> UInt16? { integer(UInt16.self) }
        mutating func i32() -> Int32? { integer(UInt32.self).map { Int32(bitPattern: $0) } }
        mutating func i64() -> Int64? { integer(UInt64.self).map { Int64(bitPattern: $0) } }
        mutating func text(length: Int?) -> String? {
            guard let length, length >= 0, index + length <= bytes.count else { return nil }
            defer { index += length }
            return String(validating: bytes[index..<index + length], as: UTF8.self)
        }
    }
}
