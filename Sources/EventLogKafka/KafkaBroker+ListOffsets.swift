import EventLog
import KafkaProtocol

extension KafkaBroker {
    /// ListOffsets: -2 is the log start, -1 the end (timestamp -1 for both), and a timestamp the
    /// first offset whose record has a timestamp at or after it, with that record's timestamp
    /// (found through the time index), or -1 and -1 when no record has.
    /// A topic the connection may not read is error 29.
    func listOffsets(_ request: ListOffsetsRequest, permissions: KafkaPermissions) async -> ListOffsetsResponse {
        typealias Answer = ListOffsetsResponse.ListOffsetsTopicResponse.ListOffsetsPartitionResponse
        var topics: [ListOffsetsResponse.ListOffsetsTopicResponse] = []
        for topic in request.topics {
            var answers: [Answer] = []
            for wanted in topic.partitions {
                var answer = Answer(partitionIndex: wanted.partitionIndex, errorCode: 0, timestamp: -1, offset: -1, leaderEpoch: -1)
                if !permissions.allows(.read, topic: topic.name) {
                    answer.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                } else if let partition = self.partition(topic.name, wanted.partitionIndex)?.partition {
                    switch wanted.timestamp {
                    case -2: answer.offset = partition.startOffset.rawValue
                    case -1: answer.offset = partition.endOffset.rawValue
                    case let t where t < 0: answer.errorCode = KafkaErrorCode.invalidRequest.rawValue
                    case let t:
                        do {
                            let offset = try await partition.offset(forTimestamp: t)
                            if offset < partition.endOffset, let record = try await partition.read(from: offset, maxRecords: 1).records.first {
                                answer.offset = record.offset.rawValue
                                answer.timestamp = record.timestamp
                            }
                        } catch {
                            answer.errorCode = Self.errorCode(for: error).rawValue
                        }
                    }
                } else {
                    answer.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                }
                answers.append(answer)
            }
            topics.append(.init(name: topic.name, partitions: answers))
        }
        return ListOffsetsResponse(throttleTimeMs: 0, topics: topics)
    }
}
