import KafkaProtocol
import Testing

/// The bytes real clients sent (kcat/librdkafka 2.0.2, confluent-kafka/librdkafka 2.16,
/// kafka-python 3.0.12; see Golden/README.md) decode, and encode back to the same bytes.
@Suite struct GoldenTests {
    @Test func everyScenarioWasCaptured() {
        let scenarios = Set(GoldenFrame.all.map(\.scenario))
        #expect(scenarios.count == 15, "\(scenarios.sorted())")
        // Every API a client sent at least once.
        let apis = Set(GoldenFrame.requests.map(\.api))
        #expect(apis.isSuperset(of: ["ApiVersions", "Metadata", "Produce", "Fetch", "ListOffsets", "InitProducerId",
                                     "FindCoordinator", "JoinGroup", "OffsetCommit", "OffsetFetch"]))
    }

    @Test(arguments: GoldenFrame.requests)
    func requestDecodesAndEncodesToTheSameBytes(_ golden: GoldenFrame) throws {
        #expect(try KafkaFraming.frameSize(at: golden.bytes) == golden.bytes.count - 4)
        let decoded = try KafkaRequestFrame.decode(golden.frame, advertised: .allCovered)
        if golden.api == "ApiVersions", golden.version > 2 {
            // The clients' first probe (librdkafka v3, kafka-python v4) is answered from its header.
            guard case .unsupportedApiVersions(let header) = decoded else {
                Issue.record("ApiVersions v\(golden.version) was decoded as a request")
                return
            }
            #expect(header.apiKey == .apiVersions && header.apiVersion == golden.version)
            return
        }
        let request = try #require(decoded.request)
        #expect(request.header.apiKey == golden.apiKey && request.header.apiVersion == golden.version)
        #expect(request.encoded() == golden.bytes)
    }

    @Test(arguments: GoldenFrame.responses)
    func acceptedResponseDecodesAndEncodesToTheSameBytes(_ golden: GoldenFrame) throws {
        // The fallback answer to ApiVersions v3+ is a v0 body.
        let version: Int16 = golden.api == "ApiVersions" && golden.version > 2 ? 0 : golden.version
        let (header, body) = try KafkaResponseFrame.decode(golden.frame, apiKey: golden.apiKey, version: version)
        var writer = KafkaWriter()
        let start = writer.beginFrame()
        header.encode(into: &writer)
        body.encode(into: &writer, version: version)
        writer.endFrame(startedAt: start)
        #expect(writer.bytes == golden.bytes)
    }

    /// The answers that librdkafka and kafka-python accepted during the capture are the bytes
    /// this module writes for the standard table, at v0 (librdkafka) and v2 (kafka-python), and
    /// for the v3/v4 fallback.
    @Test(arguments: ["kcat-metadata", "confluent-produce", "kafka-python-produce"])
    func apiVersionsAnswersAreTheOnesClientsAccepted(_ scenario: String) throws {
        for golden in GoldenFrame.all where golden.scenario == scenario && golden.api == "ApiVersions" && !golden.isRequest {
            let request = GoldenFrame.named(scenario, "ApiVersions-v\(golden.version)-request")
            var reader = KafkaReader(request.frame)
            let header = try RequestHeader.decode(from: &reader)
            let ours = golden.version > 2
                ? KafkaResponseFrame.unsupportedApiVersions(correlationId: header.correlationId, advertised: .standard)
                : KafkaResponseFrame.encode(correlationId: header.correlationId, body: ApiVersionsTable.standard.response(), version: golden.version)
            #expect(ours == golden.bytes, "\(golden.testDescription)")
        }
    }

    /// `kcat -L` first asks for brokers only (an empty topic list), then for all topics (null).
    @Test func kcatMetadataAsksForBrokersThenAllTopics() throws {
        var topicLists: [[MetadataRequest.MetadataRequestTopic]?] = []
        for file in ["Metadata-v4-request", "Metadata-v4-request-2"] {
            let decoded = try KafkaRequestFrame.decode(GoldenFrame.named("kcat-metadata", file).frame, advertised: .standard)
            let request = try #require(decoded.request)
            guard case .metadata(let metadata) = request.body else { Issue.record("not Metadata"); return }
            #expect(request.header.clientId == "rdkafka")
            topicLists.append(metadata.topics)
        }
        #expect(topicLists == [[], nil])
    }

    @Test func kcatJoinGroupCarriesTheConsumerProtocols() throws {
        let decoded = try KafkaRequestFrame.decode(GoldenFrame.named("kcat-group", "JoinGroup-v5-request").frame, advertised: .standard)
        guard case .joinGroup(let join) = try #require(decoded.request).body else { Issue.record("not JoinGroup"); return }
        #expect(join.groupId == "g1")
        #expect(join.protocolType == "consumer")
        #expect(join.memberId == "")
        #expect(join.groupInstanceId == nil)
        #expect(!join.protocols.isEmpty && join.protocols.allSatisfy { !$0.metadata.isEmpty })
    }

    @Test func confluentOffsetCommitAndFetch() throws {
        let commit = try KafkaRequestFrame.decode(GoldenFrame.named("confluent-consume", "OffsetCommit-v7-request").frame, advertised: .standard)
        guard case .offsetCommit(let c) = try #require(commit.request).body else { Issue.record("not OffsetCommit"); return }
        #expect(c.groupId == "g2" && c.generationIdOrMemberEpoch == -1 && c.memberId == "")
        #expect(c.topics.first?.partitions.first?.committedOffset == 3)
        let fetch = try KafkaRequestFrame.decode(GoldenFrame.named("confluent-consume", "OffsetFetch-v5-request").frame, advertised: .standard)
        guard case .offsetFetch(let f) = try #require(fetch.request).body else { Issue.record("not OffsetFetch"); return }
        #expect(f.groupId == "g2" && f.topics?.first?.partitionIndexes == [0])
    }

    /// The record batches in the captured Produce requests: real clients' CRCs check out, the
    /// codec policy holds, and re-stamping keeps the CRC valid.
    @Test(arguments: [
        ("kcat-produce", ProducedBatch.Codec.none), ("kcat-produce-lz4", .none), ("kcat-produce-lz4-produce0", .lz4),
        ("kcat-produce-zstd", .zstd), ("confluent-produce", .none), ("confluent-produce-lz4", .lz4),
        ("kafka-python-produce", .lz4),
    ])
    func producedBatchesValidate(_ scenario: String, _ codec: ProducedBatch.Codec) throws {
        let records = try Self.records(in: scenario)
        let batch = try ProducedBatch(validating: records, maxBatchBytes: 1 << 20)
        #expect(batch.codec == codec)
        #expect(batch.byteCount == records.count)
        var stamped = Array(records)
        ProducedBatch.restamp(&stamped, baseOffset: 123_456)
        #expect(ProducedBatch.baseOffset(of: stamped[...]) == 123_456)
        #expect(ProducedBatch.partitionLeaderEpoch(of: stamped[...]) == -1)
        #expect(ProducedBatch.checksumMatches(stamped[...]))
        #expect(try ProducedBatch(validating: stamped[...], maxBatchBytes: 1 << 20) == batch)
    }

    @Test func idempotentProducersSendTheirIdAndSequence() throws {
        for scenario in ["confluent-produce", "kafka-python-produce"] {
            let batch = try ProducedBatch(validating: try Self.records(in: scenario), maxBatchBytes: 1 << 20)
            // The capture broker handed out producer id 4242, epoch 0.
            #expect(batch.producerId == 4242 && batch.producerEpoch == 0 && batch.baseSequence == 0, "\(scenario)")
        }
    }

    @Test(arguments: ["kcat-produce-gzip-produce0", "confluent-produce-gzip"])
    func gzipBatchesAreRefusedWith76(_ scenario: String) throws {
        let records = try Self.records(in: scenario)
        #expect(ProducedBatch.checksumMatches(records))
        let error = try #require(throws: KafkaProtocolError.self) { try ProducedBatch(validating: records, maxBatchBytes: 1 << 20) }
        #expect(error.code == .unsupportedCompression)
        #expect(error.kafkaErrorCode == .unsupportedCompressionType && error.kafkaErrorCode.rawValue == 76)
    }

    /// The one partition's records of the scenario's Produce request.
    static func records(in scenario: String) throws -> ArraySlice<UInt8> {
        let golden = try #require(GoldenFrame.all.first { $0.scenario == scenario && $0.api == "Produce" && $0.isRequest })
        let request = try #require(try KafkaRequestFrame.decode(golden.frame, advertised: .standard).request)
        let produce = try #require(request.body.produce)
        return try #require(produce.topicData.first?.partitionData.first?.records)
    }
}
