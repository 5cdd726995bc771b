import KafkaClient

/// What the command line asked for, checked.
struct MirrorSettings {
    /// How records are spread over the target's partitions.
    enum Partitioning: String, CaseIterable {
        /// `source` where the partition counts match, else `key`.
        case auto
        /// Each batch to the partition of the same index, byte for byte; the counts must match.
        case source
        /// Each record to `murmur2(key) % partitions` (a Kafka producer's default partitioner);
        /// a record without a key to its source partition's index modulo the target's count.
        case key
    }

    /// Where a partition without a committed offset starts.
    enum Start: String, CaseIterable {
        case earliest, latest
    }

    var source: [BrokerAddress]
    var target: [BrokerAddress]
    /// The topics to mirror; `nil`: every topic of the source that is not internal.
    var topics: [String]?
    var group: String
    var start: Start
    var partitioning: Partitioning
    var fetchMaxBytes: Int
    var partitionMaxBytes: Int
    var fetchWaitMs: Int
    var timeoutMs: Int
    var statusIntervalMs: Int
    var untilCaughtUp: Bool
    var createPartitions: Int?
    var replicationFactor: Int16
    var sourceCredentials: SASLPlainCredentials?
    var targetCredentials: SASLPlainCredentials?
    var clientId: String
    /// A test seam (`LOG_MIRROR_FAULT_KILL_AFTER_ACKS`): SIGKILL itself once this many waves
    /// were acknowledged by the target, before their commit, the worst moment for a kill -9.
    var faultKillAfterAcks: Int? = nil
}
