import EventLog
import KafkaClient
import KafkaProtocol

/// The target's idempotent producer (InitProducerId, then a sequence per partition): a batch
/// retried after a broken connection or a restarted broker is stored once.
///
/// One batch per partition is in flight at a time; a failed send keeps the batches not yet
/// acknowledged, with their sequences, for the next attempt.
final class TargetProducer {
    private let cluster: KafkaCluster
    private let timeoutMs: Int
    private(set) var producerId: Int64 = -1
    private(set) var epoch: Int16 = -1
    private var nextSequence: [TopicPartition: Int32] = [:]
    /// The target's end offset after the last batch acknowledged, per partition.
    private(set) var ends: [TopicPartition: Int64] = [:]
    /// How many times the producer id had to be renewed (a broker that forgot it, or fenced it).
    private(set) var resets = 0

    init(cluster: KafkaCluster, timeoutMs: Int) {
        self.cluster = cluster
        self.timeoutMs = timeoutMs
    }

    /// Records `end` as `partition`'s end offset, when nothing was produced to it yet.
    func noteEnd(_ end: Int64, of partition: TopicPartition) {
        if ends[partition] == nil { ends[partition] = end }
    }

    /// Asks the target for a producer id (InitProducerId, no transactional id).
    private func initProducerId() throws {
        let connection = try cluster.anyConnection()
        let response: InitProducerIdResponse = try connection.send(
            InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: Int32.max))
        guard response.errorCode == 0 else {
            let code = KafkaErrorCode(rawValue: response.errorCode)
            throw KafkaClientError(.brokerError, "the target at \(connection.address) refused InitProducerId (Kafka error \(code)).", kafkaErrorCode: code)
        }
        producerId = response.producerId
        epoch = response.producerEpoch
        nextSequence = [:]
    }

    /// Forgets the producer id: the next send asks for a new one and numbers from 0 again.
    private func reset(_ batches: inout [TargetBatch]) {
        producerId = -1
        resets += 1
        for i in batches.indices { batches[i].sequence = nil }
    }

    /// Sends `batches` (at most one per partition) and returns when every one is acknowledged;
    /// each acknowledged batch is removed from `batches`.
    ///
    /// - Throws: a retriable ``KafkaClientError`` (the remaining batches stay in `batches`, to
    ///   send again after a back-off), or a ``MirrorError`` when the target refuses a batch
    ///   for good.
    func send(_ batches: inout [TargetBatch]) throws {
        if producerId < 0 { try initProducerId() }
        for i in batches.indices where batches[i].sequence == nil {
            let tp = batches[i].target
            let sequence = nextSequence[tp] ?? 0
            batches[i].sequence = sequence
            // Kafka's sequences wrap from Int32.max to 0.
            let next = Int64(sequence) + Int64(batches[i].recordCount)
            nextSequence[tp] = Int32(next > Int64(Int32.max) ? next - Int64(Int32.max) - 1 : next)
            ProducedBatch.stampProducer(&batches[i].bytes, producerId: producerId, epoch: epoch, baseSequence: sequence)
        }
        // One Produce request per leader.
        var byLeader: [Int32: [Int]] = [:]
        for i in batches.indices {
            byLeader[cluster.leader(topic: batches[i].target.topic, partition: batches[i].target.partition), default: []].append(i)
        }
        var acknowledged = Set<Int>()
        var retry: KafkaClientError?
        var mustReset = false
        defer {
            batches = batches.indices.filter { !acknowledged.contains($0) }.map { batches[$0] }
            if mustReset { reset(&batches) }
        }
        for (leader, indices) in byLeader.sorted(by: { $0.key < $1.key }) {
            guard leader >= 0 else {
                retry = KafkaClientError(.connectionFailed, "the target has no leader for \(batches[indices[0]].target) yet.")
                continue
            }
            let connection = try cluster.connection(toNode: leader)
            var topics: [String: [ProduceRequest.TopicProduceData.PartitionProduceData]] = [:]
            for i in indices {
                topics[batches[i].target.topic, default: []].append(.init(index: Int32(batches[i].target.partition), records: batches[i].bytes[...]))
            }
            let request = ProduceRequest(transactionalId: nil, acks: -1, timeoutMs: Int32(clamping: timeoutMs),
                                         topicData: topics.sorted { $0.key < $1.key }.map { .init(name: $0.key, partitionData: $0.value) })
            let response: ProduceResponse = try connection.send(request)
            for topic in response.responses {
                for answer in topic.partitionResponses {
                    let tp = TopicPartition(topic.name, Int(answer.index))
                    guard let i = indices.first(where: { batches[$0].target == tp }) else { continue }
                    let code = KafkaErrorCode(rawValue: answer.errorCode)
                    switch code.rawValue {
                    case 0:
                        acknowledged.insert(i)
                        if answer.baseOffset >= 0 { ends[tp] = answer.baseOffset + Int64(batches[i].recordCount) }
                    case KafkaErrorCode.duplicateSequenceNumber.rawValue:
                        // Stored by an earlier attempt.
                        acknowledged.insert(i)
                    case KafkaErrorCode.outOfOrderSequenceNumber.rawValue, KafkaErrorCode.invalidProducerEpoch.rawValue, 59:
                        // The target lost or fenced the producer (a restart without its state):
                        // a new producer id, sequences from 0.
                        mustReset = true
                        retry = KafkaClientError(.brokerError, "the target answered \(tp) with Kafka error \(code) (producer state lost); a new producer id is taken.", kafkaErrorCode: code)
                    case _ where KafkaClientError.isRetriable(code):
                        retry = KafkaClientError(.brokerError, "the target answered \(tp) with the retriable Kafka error \(code)\(answer.errorMessage.map { ": \($0)" } ?? "").", kafkaErrorCode: code)
                    default:
                        throw MirrorError("the target refused the batch for \(tp) with Kafka error \(code)\(answer.errorMessage.map { " (\($0))" } ?? "")\(Self.hint(for: code))")
                    }
                }
            }
            for i in indices where !acknowledged.contains(i) && retry == nil {
                retry = KafkaClientError(.protocolViolation, "the target's Produce response did not mention \(batches[i].target).")
            }
        }
        if let retry { throw retry }
    }

    private static func hint(for code: KafkaErrorCode) -> String {
        switch code {
        case .unsupportedCompressionType: return "; the target does not accept the source's codec."
        case .messageTooLarge: return "; raise the target topic's max.message.bytes."
        case .topicAuthorizationFailed: return "; the target credentials may not write this topic."
        default: return "."
        }
    }
}
