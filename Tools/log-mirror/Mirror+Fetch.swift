import EventLog
import KafkaClient
import KafkaProtocol

extension Mirror {
    /// One Fetch per source leader, from every partition's position: whole batches are queued,
    /// high watermarks noted. A position the source no longer holds (retention) moves to
    /// `--start`, reported.
    func fetch() throws {
        var byLeader: [Int32: [TopicPartition]] = [:]
        for tp in positions.keys.sorted() {
            byLeader[source.leader(topic: tp.topic, partition: tp.partition), default: []].append(tp)
        }
        let waitMs = max(10, settings.fetchWaitMs / max(1, byLeader.count))
        for (leader, tps) in byLeader.sorted(by: { $0.key < $1.key }) {
            guard leader >= 0 else {
                sourceMetadataStale = true
                throw KafkaClientError(.connectionFailed, "the source has no leader for \(tps[0]) yet.")
            }
            let connection = try source.connection(toNode: leader)
            let grouped = Dictionary(grouping: tps, by: \.topic)
            let request = FetchRequest(
                replicaId: -1, maxWaitMs: Int32(waitMs), minBytes: 1, maxBytes: Int32(clamping: settings.fetchMaxBytes),
                isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
                topics: grouped.keys.sorted().map { name in
                    .init(topic: name, partitions: grouped[name]!.map { tp in
                        .init(partition: Int32(tp.partition), fetchOffset: positions[tp]!, partitionMaxBytes: Int32(clamping: settings.partitionMaxBytes))
                    })
                })
            let response: FetchResponse = try connection.send(request, extraWaitMs: waitMs)
            if response.errorCode != 0 {
                let code = KafkaErrorCode(rawValue: response.errorCode)
                throw KafkaClientError(.brokerError, "the source at \(connection.address) answered Fetch with Kafka error \(code).", kafkaErrorCode: code)
            }
            for topic in response.responses {
                for p in topic.partitions {
                    try take(p, of: TopicPartition(topic.topic, Int(p.partitionIndex)))
                }
            }
        }
    }

    private func take(_ p: FetchResponse.FetchableTopicResponse.PartitionData, of tp: TopicPartition) throws {
        guard let position = positions[tp] else { return }
        let code = KafkaErrorCode(rawValue: p.errorCode)
        switch code {
        case .none:
            highWatermarks[tp] = p.highWatermark
            var next = position
            var batches: [SourceBatch] = []
            for batch in try SourceBatch.split(p.records ?? [], topicPartition: tp) where batch.nextOffset > next {
                if batch.isTransactional && !batch.isControl {
                    throw MirrorError("\(tp) holds a transactional batch at offset \(batch.baseOffset); log-mirror does not mirror transactions.")
                }
                batches.append(batch)
                next = batch.nextOffset
            }
            if !batches.isEmpty { queue[tp, default: []].append(contentsOf: batches) }
        case .offsetOutOfRange:
            let restart = try listOffsets(on: source, [tp], at: settings.start == .earliest ? -2 : -1)[tp] ?? position
            status.note("the source no longer holds offset \(position) of \(tp); resuming at \(restart) (--start \(settings.start.rawValue))\(restart > position ? ": \(restart - position) records were removed by retention before they were mirrored" : "").")
            if restart > position { skippedRecords += restart - position }
            positions[tp] = restart
            queue[tp] = nil
        case _ where KafkaClientError.isRetriable(code):
            sourceMetadataStale = true
            throw KafkaClientError(.brokerError, "the source answered Fetch for \(tp) with the retriable Kafka error \(code).", kafkaErrorCode: code)
        default:
            throw MirrorError("the source refused Fetch for \(tp) (Kafka error \(code)).")
        }
    }
}
