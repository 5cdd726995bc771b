import Synchronization

/// A named set of partitions sharing one configuration.
public final class Topic: Sendable {
    /// The topic's name.
    public let name: String
    /// The topic's settings as they are now.
    ///
    /// Fixed at creation, except those ``LogStore/alterTopic(named:_:)`` changes: durability,
    /// cleanup policy, retention, the compaction settings, and the partition count, which may
    /// grow.
    public var configuration: TopicConfiguration { live.current }
    /// The partitions, indexed by number: `partitions[i]` is partition `i`.
    ///
    /// Partition numbers are array indices here, and a number out of range traps, as for any
    /// array. A number from outside (a request, a file) is checked first, against
    /// `partitions.count` or with ``LogStore/partition(_:)``, which throws
    /// ``LogError/Code/partitionNotFound`` instead.
    ///
    /// The array is a snapshot: ``LogStore/alterTopic(named:_:)`` may add partitions at the
    /// end (never removes one), so a number below a snapshot's count stays valid for good.
    /// Take one snapshot for a loop rather than reading this property in it.
    public var partitions: [Partition] { partitionList.withLock { $0 } }

    /// The number of partitions the topic was created with: the count of a stream cursor
    /// (``TopicPosition``) taken before the topic grew can be this or any count since.
    public let createdPartitionCount: Int

    let directory: String
    /// The settings, shared with the partitions (``LiveConfiguration``).
    let live: LiveConfiguration
    private let partitionList: Mutex<[Partition]>
    private let roundRobin = Atomic<Int>(0)

    init(name: String, configuration: LiveConfiguration, partitions: [Partition], directory: String,
         createdPartitionCount: Int? = nil) {
        self.name = name
        self.live = configuration
        self.partitionList = Mutex(partitions)
        self.directory = directory
        self.createdPartitionCount = createdPartitionCount ?? partitions.count
    }

    /// Whether the topic has grown since its creation (``createdPartitionCount``).
    public var hasGrown: Bool { partitionList.withLock { $0.count } > createdPartitionCount }

    /// Adds partitions at the end (``LogStore/alterTopic(named:_:)``, once they are durable),
    /// then wakes every task waiting for records of the old ones, so that a tail of the whole
    /// topic (``TopicTail``) reads again and waits on the new ones too.
    func addPartitions(_ added: [Partition]) {
        let old = partitionList.withLock { list in
            defer { list.append(contentsOf: added) }
            return list
        }
        for partition in old { partition.wakeAllWaiters() }
    }

    /// Whether the topic is internal: the library's own state, such as consumer group commits
    /// (a `__` name, ``TopicConfiguration/isInternal``). Clients cannot write, alter or delete it.
    public var isInternal: Bool { live.isInternal || LogStore.isInternalTopicName(name) }

    /// The partition a key goes to: Kafka's `murmur2(key) & 0x7fffffff % partitions`, so that
    /// keys land where a Kafka producer's default partitioner would put them.
    ///
    /// The key is any collection of bytes: a record's ``RecordBytes`` (as read, or pointing
    /// into a request's body), a `[UInt8]`, a string's `utf8`. Bytes in contiguous memory are
    /// hashed in place, without a copy.
    /// A topic that grows sends a key to another partition from then on (as Kafka does).
    public func partitionIndex(forKey key: some Collection<UInt8>) -> Int {
        Int(Murmur2.hash(key) & 0x7fff_ffff) % partitionCount
    }

    /// The next partition in turn, for records with neither key nor partition (every call
    /// moves to the next one).
    public func nextRoundRobinPartition() -> Int {
        let n = roundRobin.wrappingAdd(1, ordering: .relaxed).oldValue
        return (n & Int.max) % partitionCount
    }

    /// How many partitions the topic has now.
    public var partitionCount: Int { partitionList.withLock { $0.count } }

    /// The sum of the partitions' sizes.
    public var sizeInBytes: Int64 { partitions.reduce(0) { $0 + $1.sizeInBytes } }
}

/// Kafka's murmur2 hash (the Java client's `Utils.murmur2`); `package` for log-mirror, which
/// partitions by key as a Kafka producer does.
package enum Murmur2 {
    /// The hash of `bytes`: in place when they are contiguous (arrays, ``RecordBytes``, native
    /// strings' UTF-8), else of a copy.
    package static func hash(_ bytes: some Collection<UInt8>) -> UInt32 {
        if let hash = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return hash }
        return Array(bytes).withUnsafeBytes { hash($0) }
    }

    package static func hash(_ data: UnsafeRawBufferPointer) -> UInt32 {
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let length = data.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        let blocks = length / 4
        for i in 0..<blocks {
            let j = i * 4
            var k = UInt32(data[j]) | UInt32(data[j + 1]) << 8 | UInt32(data[j + 2]) << 16 | UInt32(data[j + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = blocks * 4
        switch length % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return h
    }
}
