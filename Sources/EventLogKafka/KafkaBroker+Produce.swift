import EventLog
import KafkaProtocol

extension KafkaBroker {
    /// Produce: each partition's one record batch is validated, its leader epoch set to -1, and
    /// appended as it is (the writer stamps its base offset; the CRC does not cover either).
    /// Returns after the append, which waits for `fdatasync(2)` on fsync topics; partitions are
    /// appended concurrently.
    /// A topic the connection may not write is error 29.
    func produce(_ request: ProduceRequest, permissions: KafkaPermissions) async -> ProduceResponse {
        typealias PartitionResponse = ProduceResponse.TopicProduceResponse.PartitionProduceResponse
        func failure(_ index: Int32, _ code: KafkaErrorCode, _ message: String?) -> PartitionResponse {
            .init(index: index, errorCode: code.rawValue, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage: message)
        }
        guard [-1, 0, 1].contains(request.acks) else {
            return ProduceResponse(responses: request.topicData.map { topic in
                .init(name: topic.name, partitionResponses: topic.partitionData.map {
                    failure($0.index, .invalidRequiredAcks, "acks must be -1, 0 or 1, not \(request.acks)")
                })
            })
        }
        // Flattened so that every partition appends at once; answered in request order.
        let work = request.topicData.flatMap { topic in topic.partitionData.map { (topic: topic.name, data: $0) } }
        let answers = await withTaskGroup(of: (Int, PartitionResponse).self) { group in
            for (i, item) in work.enumerated() {
                guard permissions.allows(.write, topic: item.topic) else {
                    group.addTask { (i, failure(item.data.index, .topicAuthorizationFailed, "this connection may not write topic \(item.topic)")) }
                    continue
                }
                group.addTask {
                    (i, await self.append(item.data, to: item.topic, failure: failure))
                }
            }
            var answers = [PartitionResponse?](repeating: nil, count: work.count)
            for await (i, answer) in group { answers[i] = answer }
            return answers
        }
        var next = 0
        return ProduceResponse(responses: request.topicData.map { topic in
            .init(name: topic.name, partitionResponses: topic.partitionData.map { _ in
                defer { next += 1 }
                return answers[next]!
            })
        })
    }

    private func append(
        _ data: ProduceRequest.TopicProduceData.PartitionProduceData, to topic: String,
        failure: (Int32, KafkaErrorCode, String?) -> ProduceResponse.TopicProduceResponse.PartitionProduceResponse
    ) async -> ProduceResponse.TopicProduceResponse.PartitionProduceResponse {
        let partition: Partition
        let maxBatchBytes: Int
        guard let found = self.partition(topic, data.index) else {
            return failure(data.index, .unknownTopicOrPartition, "no partition \(data.index) of topic \(topic)")
        }
        (partition, maxBatchBytes) = (found.partition, found.topic.configuration.maxBatchBytes)
        do {
            _ = try ProducedBatch(validating: data.records, maxBatchBytes: maxBatchBytes)
        } catch {
            return failure(data.index, error.kafkaErrorCode, error.message)
        }
        // The one copy of the batch: out of the request frame, into the append.
        var bytes = Array(data.records!)
        ProducedBatch.restamp(&bytes, baseOffset: 0)
        do {
            let batch = try EncodedBatch(received: bytes)
            let range = try await partition.append(encoded: batch)
            return .init(index: data.index, errorCode: 0, baseOffset: range.first.rawValue, logAppendTimeMs: -1,
                         logStartOffset: partition.startOffset.rawValue, recordErrors: [], errorMessage: nil)
        } catch {
            let code = Self.errorCode(for: error)
            if code == .kafkaStorageError || code == .unknownServerError {
                // The engine's sentence may name files: it goes to the log, not to the client.
                logger.warning("Kafka produce to \(topic)/\(data.index) failed", metadata: ["error": "\(error)"])
                return failure(data.index, code, nil)
            }
            return failure(data.index, code, (error as? LogError)?.message)
        }
    }
}
