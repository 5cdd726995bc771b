import KafkaProtocol

extension FuzzTargets {
    /// A Kafka request frame as a client sends it (size prefix, header, body): the size check,
    /// then the header and body decoders at every covered API and version. Whatever decodes must
    /// encode back to exactly its bytes; a Produce partition's records go through the batch
    /// validator, and a batch that validates must still validate once re-stamped.
    static func kafkaRequest(_ data: [UInt8]) {
        guard let size = try? KafkaFraming.frameSize(at: data, maxFrameBytes: 1 << 20) else { return }
        // An input shorter than its prefix announces is a truncated frame: decoded as such.
        let frame = Array(data.dropFirst(KafkaFraming.prefixBytes).prefix(size))
        guard let decoded = try? KafkaRequestFrame.decode(frame, advertised: .allCovered) else { return }
        switch decoded {
        case .unsupportedApiVersions(let header):
            _ = KafkaResponseFrame.unsupportedApiVersions(correlationId: header.correlationId, advertised: .standard)
        case .request(let request):
            let encoded = request.encoded()
            precondition(encoded.dropFirst(KafkaFraming.prefixBytes).elementsEqual(frame),
                         "\(request.header.apiKey) v\(request.header.apiVersion) does not encode back to its bytes")
            guard case .produce(let produce) = request.body else { return }
            for topic in produce.topicData {
                for partition in topic.partitionData {
                    guard let batch = try? ProducedBatch(validating: partition.records, maxBatchBytes: 1 << 20),
                          var stamped = partition.records.map(Array.init) else { continue }
                    ProducedBatch.restamp(&stamped, baseOffset: 1 << 40)
                    precondition((try? ProducedBatch(validating: stamped[...], maxBatchBytes: 1 << 20)) == batch,
                                 "a valid batch is no longer valid once re-stamped")
                }
            }
        }
    }
}
