/// A partition of a topic, as the mirror keys its positions and batches.
struct TopicPartition: Hashable, Comparable, CustomStringConvertible {
    var topic: String
    var partition: Int

    init(_ topic: String, _ partition: Int) {
        self.topic = topic
        self.partition = partition
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    var description: String { "\(topic)/\(partition)" }
}
