import EventLog
import KafkaProtocol

extension KafkaBroker {
    /// Fetch: stored batches as they are, from the batch that holds each fetch offset.
    ///
    /// The first partition with data gets at least one whole batch however large (KIP-74);
    /// after it, batches are added within the partition's and the request's max_bytes. When
    /// fewer than min_bytes are there, the request waits up to max_wait_ms (at most
    /// ``KafkaListenerConfiguration/maxFetchWait``), woken by the append that brings data: no
    /// polling. HWM and LSO are the end offset (no transactions); session_id is always 0 (no
    /// fetch sessions); offsets outside the log get error 1.
    /// A topic the connection may not read is error 29.
    func fetch(_ request: FetchRequest, permissions: KafkaPermissions) async -> FetchResponse {
        let wait = min(Duration.milliseconds(max(0, Int64(request.maxWaitMs))), configuration.maxFetchWait)
        let deadline = ContinuousClock.now.advanced(by: wait)
        while true {
            let (response, bytes, waitOn) = await fetchOnce(request, permissions: permissions)
            let now = ContinuousClock.now
            // min_bytes 0 asks for an answer at once (Kafka's rule), data or not.
            if bytes >= max(0, Int(request.minBytes)) || waitOn.isEmpty || now >= deadline {
                return response
            }
            // Nothing new may arrive between the read and the wait unnoticed: the wait returns
            // at once for a position that has data already.
            if await !Partition.waitForRecords(waitOn, timeout: deadline - now) {
                // Timed out (or the store is closing): answer with what there is now.
                return await fetchOnce(request, permissions: permissions).response
            }
        }
    }

    /// One pass over the requested partitions: the response, its record bytes, and the
    /// positions to wait on (partitions read without error, at the offset after what was read).
    private func fetchOnce(_ request: FetchRequest, permissions: KafkaPermissions) async -> (response: FetchResponse, bytes: Int, waitOn: [(partition: Partition, offset: Offset)]) {
        typealias PartitionData = FetchResponse.FetchableTopicResponse.PartitionData
        // Bounded whatever the client asks: an answer is held in memory until it is written.
        var budget = min(request.maxBytes > 0 ? Int(request.maxBytes) : Int(Int32.max), max(1, configuration.maxFetchBytes))
        var total = 0
        var waitOn: [(partition: Partition, offset: Offset)] = []
        var topics: [FetchResponse.FetchableTopicResponse] = []
        for topic in request.topics {
            var partitions: [PartitionData] = []
            for wanted in topic.partitions {
                var answer = PartitionData(partitionIndex: wanted.partition, errorCode: 0, highWatermark: -1, lastStableOffset: -1,
                                           logStartOffset: -1, abortedTransactions: nil, preferredReadReplica: -1, records: [])
                guard permissions.allows(.read, topic: topic.topic) else {
                    answer.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                    partitions.append(answer)
                    continue
                }
                guard let partition = self.partition(topic.topic, wanted.partition)?.partition else {
                    answer.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    partitions.append(answer)
                    continue
                }
                let limit = wanted.partitionMaxBytes > 0 ? min(Int(wanted.partitionMaxBytes), budget) : budget
                do {
                    var read = try await partition.readStoredBatches(from: Offset(wanted.fetchOffset), maxBytes: max(1, limit))
                    // Past the first partition with data, a batch over the budget waits for the next fetch.
                    if total > 0 && read.bytes.count > limit { read.bytes = [] }
                    Self.clearLeaderEpochs(&read.bytes)
                    answer.highWatermark = read.endOffset.rawValue
                    answer.lastStableOffset = read.endOffset.rawValue
                    answer.logStartOffset = read.startOffset.rawValue
                    total += read.bytes.count
                    budget = max(0, budget - read.bytes.count)
                    answer.records = read.bytes[...]
                    waitOn.append((partition, read.bytes.isEmpty ? Offset(wanted.fetchOffset) : read.nextOffset))
                } catch {
                    answer.errorCode = Self.errorCode(for: error).rawValue
                    if let range = (error as? LogError)?.range, answer.errorCode == KafkaErrorCode.offsetOutOfRange.rawValue {
                        answer.highWatermark = range.end.rawValue
                        answer.lastStableOffset = range.end.rawValue
                        answer.logStartOffset = range.first.rawValue
                    } else if answer.errorCode != KafkaErrorCode.offsetOutOfRange.rawValue {
                        logger.warning("Kafka fetch from \(topic.topic)/\(wanted.partition) failed", metadata: ["error": "\(error)"])
                    }
                }
                partitions.append(answer)
            }
            topics.append(.init(topic: topic.topic, partitions: partitions))
        }
        return (FetchResponse(throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: topics), total, waitOn)
    }

    /// Sets every batch's partitionLeaderEpoch to -1 (the broker is epoch-less; the engine
    /// writes 0 in the batches it encodes). The field lies before the CRC's range.
    static func clearLeaderEpochs(_ bytes: inout [UInt8]) {
        var at = 0
        while at + 16 <= bytes.count {
            let length = bytes[at + 8 ..< at + 12].reduce(0) { $0 << 8 | Int($1) }
            for i in 12..<16 { bytes[at + i] = 0xff }
            at += 12 + length
        }
    }
}
