import EventLog
import KafkaClient
import KafkaProtocol

extension Mirror {
    /// Commits every position that moved to the source's group coordinator (generation -1, no
    /// member: the group's only user), with the target's end offsets as metadata.
    func commitPositions() throws {
        let moved = positions.filter { committed[$0.key] != $0.value }
        guard !moved.isEmpty else { return }
        let coordinator = try source.coordinator(for: settings.group)
        let grouped = Dictionary(grouping: moved.keys, by: \.topic)
        let request = OffsetCommitRequest(
            groupId: settings.group, generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: nil, retentionTimeMs: -1,
            topics: grouped.keys.sorted().map { name in
                .init(name: name, partitions: grouped[name]!.sorted().map { tp in
                    .init(partitionIndex: Int32(tp.partition), committedOffset: moved[tp]!, committedMetadata: metadata(for: tp))
                })
            })
        let response: OffsetCommitResponse = try coordinator.send(request)
        for topic in response.topics {
            for p in topic.partitions {
                let tp = TopicPartition(topic.name, Int(p.partitionIndex))
                let code = KafkaErrorCode(rawValue: p.errorCode)
                if code == .none {
                    committed[tp] = moved[tp]
                } else {
                    try groupError(code, doing: "committing the offset of \(tp)")
                }
            }
        }
    }

    /// The target ends to store with `tp`'s commit: its own partition's by source partition,
    /// every target partition's of the topic by key.
    private func metadata(for tp: TopicPartition) -> String {
        guard let route = routes[tp.topic] else { return "" }
        var ends: [Int: Int64] = [:]
        let partitions = route.bySourcePartition ? [tp.partition] : Array(0..<route.targetPartitions)
        for partition in partitions {
            if let end = producer.ends[TopicPartition(tp.topic, partition)] { ends[partition] = end }
        }
        return CommitMetadata(targetEnds: ends).encoded
    }
}
