import EventLog
@testable import EventLogKafka
import Foundation
import KafkaProtocol
import Logging
import Testing

/// The broker's answers to requests no client in the e2e tests sends, in process.
@Suite struct KafkaBrokerTests {
    static func withBroker(_ configure: (inout KafkaListenerConfiguration) -> Void = { _ in }, partitions: Int = 1,
                           _ body: (KafkaBroker, LogStore) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "kafka-broker-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var options = LogStore.Options()
        options.defaultTopicConfiguration.partitions = partitions
        let store = try await LogStore.open(at: dir, options: options, logger: logger)
        var configuration = KafkaListenerConfiguration()
        configure(&configuration)
        let coordinator = try await GroupCoordinator.open(store: store, logger: logger)
        let broker = KafkaBroker(store: store, groups: { coordinator }, configuration: configuration,
                                 advertisedHost: "127.0.0.1", advertisedPort: 9092, logger: logger)
        try await body(broker, store)
        await coordinator.close()
        try await store.close()
    }

    /// Sends `body` at `version` and decodes the answer.
    static func ask(_ broker: KafkaBroker, _ body: KafkaRequest, version: Int16) async throws -> KafkaResponse {
        let frame = KafkaRequestFrame(header: RequestHeader(apiKey: body.apiKey, apiVersion: version, correlationId: 5, clientId: "t"), body: body).encoded()
        guard case .respond(let bytes) = await broker.handle(frame: Array(frame.dropFirst(4))) else {
            Issue.record("no response")
            throw CancellationError()
        }
        let (header, response) = try KafkaResponseFrame.decode(Array(bytes.dropFirst(4)), apiKey: body.apiKey, version: version)
        #expect(header.correlationId == 5)
        return response
    }

    @Test func metadataTopicsNullEmptyUnknownInvalidAndInternal() async throws {
        try await Self.withBroker({ $0.autoCreateTopics = false }) { broker, store in
            _ = try await store.createTopic(named: "b", configuration: TopicConfiguration(partitions: 3))
            _ = try await store.createTopic(named: "a", configuration: TopicConfiguration())
            var hidden = TopicConfiguration()
            hidden.isInternal = true
            _ = try await store.createTopic(named: "__hidden", configuration: hidden)
            func names(_ topics: [MetadataRequest.MetadataRequestTopic]?) async throws -> [String: (Int16, Int)] {
                guard case .metadata(let m) = try await Self.ask(broker, .metadata(.init(topics: topics, allowAutoTopicCreation: true)), version: 8) else { return [:] }
                #expect(m.brokers == [.init(nodeId: 1, host: "127.0.0.1", port: 9092, rack: nil)] && m.controllerId == 1)
                return Dictionary(uniqueKeysWithValues: m.topics.map { ($0.name, ($0.errorCode, $0.partitions.count)) })
            }
            let all = try await names(nil)
            #expect(all.mapValues(\.1) == ["a": 1, "b": 3])
            #expect(try await names([]).isEmpty)
            let named = try await names([.init(name: "b"), .init(name: "nope"), .init(name: "bad name!"), .init(name: "__hidden")])
            #expect(named["b"]! == (0, 3))
            #expect(named["nope"]! == (3, 0))      // auto-creation off
            #expect(named["bad name!"]! == (17, 0))
            #expect(named["__hidden"]! == (3, 0))
        }
    }

    @Test func metadataCreatesTopicsWithTheDefaultsWhenAllowed() async throws {
        try await Self.withBroker(partitions: 4) { broker, store in
            guard case .metadata(let refused) = try await Self.ask(broker, .metadata(.init(topics: [.init(name: "c")], allowAutoTopicCreation: false)), version: 4) else { return }
            #expect(refused.topics.first?.errorCode == 3 && store.topic(named: "c") == nil)
            guard case .metadata(let created) = try await Self.ask(broker, .metadata(.init(topics: [.init(name: "c")], allowAutoTopicCreation: true)), version: 4) else { return }
            #expect(created.topics.first?.errorCode == 0 && created.topics.first?.partitions.count == 4)
            #expect(created.topics.first?.partitions.allSatisfy { $0.leaderId == 1 && $0.replicaNodes == [1] && $0.isrNodes == [1] } == true)
        }
    }

    @Test func produceRefusesBadAcksUnknownPartitionsAndBadBatches() async throws {
        try await Self.withBroker { broker, store in
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration())
            let batch = try EncodedBatch(records: [Record(value: Array("v".utf8))], codec: .none, now: 1).bytes
            func produce(acks: Int16, topic: String = "t", partition: Int32 = 0, records: [UInt8]? = batch) async throws -> (Int16, Int64, String?) {
                let request = ProduceRequest(acks: acks, timeoutMs: 1000, topicData: [.init(name: topic, partitionData: [.init(index: partition, records: records.map { $0[...] })])])
                guard case .produce(let r) = try await Self.ask(broker, .produce(request), version: 8) else { return (0, 0, nil) }
                let p = r.responses[0].partitionResponses[0]
                return (p.errorCode, p.baseOffset, p.errorMessage)
            }
            #expect(try await produce(acks: 2).0 == 21)
            #expect(try await produce(acks: -1, partition: 1).0 == 3)
            #expect(try await produce(acks: -1, topic: "nope").0 == 3)
            #expect(try await produce(acks: -1, records: nil).0 == 2)
            var corrupt = batch
            corrupt[corrupt.count - 1] ^= 1
            let (code, offset, message) = try await produce(acks: -1, records: corrupt)
            #expect(code == 2 && offset == -1 && message?.contains("CRC32C") == true)
            #expect(try await produce(acks: 1) == (0, 0, nil))
            #expect(try await produce(acks: -1) == (0, 1, nil))
            #expect(store.topic(named: "t")!.partitions[0].endOffset == 2)
        }
    }

    @Test func acksZeroIsNotAnswered() async throws {
        try await Self.withBroker { broker, store in
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration())
            let batch = try EncodedBatch(records: [Record(value: Array("v".utf8))], codec: .none, now: 1).bytes
            let request = ProduceRequest(acks: 0, timeoutMs: 1000, topicData: [.init(name: "t", partitionData: [.init(index: 0, records: batch[...])])])
            let frame = KafkaRequestFrame(header: RequestHeader(apiKey: .produce, apiVersion: 7, correlationId: 1, clientId: nil), body: .produce(request)).encoded()
            #expect(await broker.handle(frame: Array(frame.dropFirst(4))) == .noResponse)
            #expect(store.topic(named: "t")!.partitions[0].endOffset == 1)
        }
    }

    @Test func unadvertisedAndMalformedRequestsCloseTheConnection() async throws {
        try await Self.withBroker { broker, _ in
            // CreateTopics has a codec but is not served: not advertised, so refused.
            let create = KafkaRequestFrame(header: RequestHeader(apiKey: .createTopics, apiVersion: 2, correlationId: 1, clientId: nil), body: .createTopics(.init())).encoded()
            guard case .close(let reason) = await broker.handle(frame: Array(create.dropFirst(4))) else { Issue.record("answered"); return }
            #expect(reason.contains("CreateTopics (key 19) is not supported"))
            guard case .close = await broker.handle(frame: [0, 3, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]) else { Issue.record("answered"); return }
        }
    }

    @Test func initProducerIdHandsOutDistinctIdsAndRefusesTransactions() async throws {
        try await Self.withBroker { broker, _ in
            var ids: Set<Int64> = []
            for _ in 0..<100 {
                guard case .initProducerId(let r) = try await Self.ask(broker, .initProducerId(.init(transactionalId: nil, transactionTimeoutMs: 1000)), version: 1) else { return }
                #expect(r.errorCode == 0 && r.producerEpoch == 0 && r.producerId > 0 && r.producerId < 1 << 62)
                ids.insert(r.producerId)
            }
            #expect(ids.count == 100)
            guard case .initProducerId(let refused) = try await Self.ask(broker, .initProducerId(.init(transactionalId: "tx", transactionTimeoutMs: 1000)), version: 1) else { return }
            #expect(refused.errorCode == 42)
        }
    }

    @Test func findCoordinatorIsThisNodeForGroupsOnly() async throws {
        try await Self.withBroker { broker, _ in
            guard case .findCoordinator(let group) = try await Self.ask(broker, .findCoordinator(.init(key: "g", keyType: 0)), version: 2) else { return }
            #expect(group.errorCode == 0 && group.nodeId == 1 && group.host == "127.0.0.1" && group.port == 9092)
            guard case .findCoordinator(let txn) = try await Self.ask(broker, .findCoordinator(.init(key: "tx", keyType: 1)), version: 2) else { return }
            #expect(txn.errorCode == 15)
        }
    }

    @Test func leaderEpochsAreClearedInEveryServedBatch() throws {
        var bytes: [UInt8] = []
        for n in 1...3 {
            bytes += try EncodedBatch(records: (0..<n).map { _ in Record(value: [1, 2, 3]) }, codec: .none, now: 1).bytes
        }
        let before = bytes
        KafkaBroker.clearLeaderEpochs(&bytes)
        var at = 0
        while at < bytes.count {
            let length = bytes[at + 8 ..< at + 12].reduce(0) { $0 << 8 | Int($1) }
            #expect(Array(bytes[at + 12 ..< at + 16]) == [0xff, 0xff, 0xff, 0xff])
            for i in at..<(at + 12 + length) where !(12..<16).contains(i - at) { #expect(bytes[i] == before[i]) }
            at += 12 + length
        }
        #expect(at == bytes.count)
    }

    @Test func listenAddressesAndAuthentication() throws {
        #expect(try KafkaListenerConfiguration.parseAddress("127.0.0.1:9092") == ("127.0.0.1", 9092))
        #expect(try KafkaListenerConfiguration.parseAddress("[::1]:0") == ("::1", 0))
        for bad in ["9092", "host:", ":9092", "h:70000", "h:x"] {
            #expect(throws: KafkaListenerConfigurationError.self) { try KafkaListenerConfiguration.parseAddress(bad) }
        }
        #expect(try KafkaListenerConfiguration(listen: "", advertisedHost: nil, authenticationRequired: false) == nil)
        #expect(try KafkaListenerConfiguration(listen: nil, advertisedHost: nil, authenticationRequired: true) == nil)
        #expect(throws: KafkaListenerConfigurationError.self) { try KafkaListenerConfiguration(listen: "127.0.0.1:1", advertisedHost: nil, authenticationRequired: true) }
        #expect(throws: KafkaListenerConfigurationError.self) { try KafkaListenerConfiguration(listen: "0.0.0.0:1", advertisedHost: nil, authenticationRequired: false) }
        let wildcard = try #require(try KafkaListenerConfiguration(listen: "0.0.0.0:1", advertisedHost: "10.0.0.5", authenticationRequired: false))
        #expect(try wildcard.checkedAdvertisedHost() == "10.0.0.5" && wildcard.bindFailureIsFatal)
        let byDefault = try #require(try KafkaListenerConfiguration(listen: nil, advertisedHost: nil, authenticationRequired: false))
        #expect(byDefault.host == "127.0.0.1" && byDefault.port == 9092 && !byDefault.bindFailureIsFatal)
    }
}
