/// The "consumer" protocol's metadata: what Kafka consumers put in JoinGroup (their
/// subscription) and the leader in SyncGroup (each member's assignment).
///
/// A broker relays these bytes as they are; it reads them only to show a group's topics and
/// partitions to operators. Both start with an int16 version; every version (0–3) begins
/// with the fields read here, and later fields are skipped:
///
/// - subscription: `version, topics [string], user_data nullable bytes, …`
/// - assignment: `version, [topic string, partitions [int32]], user_data nullable bytes`
public enum ConsumerProtocol {
    /// The protocol type of Kafka consumers' groups.
    public static let protocolType = "consumer"

    /// The topics a subscription names, or `nil` when the bytes are not a subscription.
    public static func subscribedTopics(_ metadata: [UInt8]) -> [String]? {
        var reader = KafkaReader(metadata)
        do {
            guard try reader.readInt16() >= 0 else { return nil }
            let count = try reader.readArrayCount(field: "Topics", minElementBytes: 2)
            var topics: [String] = []
            topics.reserveCapacity(count)
            for _ in 0..<count { topics.append(try reader.readString(field: "Topics")) }
            return topics
        } catch {
            return nil
        }
    }

    /// The partitions an assignment names, by topic, or `nil` when the bytes are not an
    /// assignment (an empty assignment, as a leader may send, is no partitions).
    public static func assignedPartitions(_ bytes: [UInt8]) -> [(topic: String, partitions: [Int32])]? {
        if bytes.isEmpty { return [] }
        var reader = KafkaReader(bytes)
        do {
            guard try reader.readInt16() >= 0 else { return nil }
            let count = try reader.readArrayCount(field: "AssignedPartitions", minElementBytes: 6)
            var out: [(topic: String, partitions: [Int32])] = []
            out.reserveCapacity(count)
            for _ in 0..<count {
                let topic = try reader.readString(field: "AssignedPartitions.Topic")
                let n = try reader.readArrayCount(field: "AssignedPartitions.Partitions", minElementBytes: 4)
                var partitions: [Int32] = []
                partitions.reserveCapacity(n)
                for _ in 0..<n { partitions.append(try reader.readInt32()) }
                out.append((topic, partitions))
            }
            return out
        } catch {
            return nil
        }
    }
}
