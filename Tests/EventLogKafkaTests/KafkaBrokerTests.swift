import EventLog
@testable import EventLogKafka
import KafkaProtocol
import TestSupport
import Testing

/// The broker's answers to requests no client in the e2e tests sends, in process.
@Suite struct KafkaBrokerTests {
    static func withBroker(_ configure: (inout KafkaListenerConfiguration) -> Void = { _ in }, partitions: Int = 1,
                           maxPartitions: Int? = nil, _ body: (KafkaBroker, LogStore) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir) {
                $0.defaultTopicConfiguration.partitions = partitions
                $0.maxPartitions = maxPartitions
            }
            var configuration = KafkaListenerConfiguration()
            configure(&configuration)
            let coordinator = try await GroupCoordinator.open(store: store, logger: testLogger)
            let broker = KafkaBroker(store: store, groups: { coordinator }, configuration: configuration,
                                     advertisedHost: "127.0.0.1", advertisedPort: 9092, logger: testLogger)
            try await body(broker, store)
            await coordinator.close()
            try await store.close()
        }
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

    /// A Fetch asking for 2 GiB gets at most the listener's `maxFetchBytes` (plus one batch):
    /// its answer is held in memory until written.
    @Test func aFetchAnswerIsBoundedWhateverItsMaxBytes() async throws {
        try await Self.withBroker({ $0.maxFetchBytes = 4096 }) { broker, store in
            let topic = try await store.createTopic(named: "big", configuration: TopicConfiguration())
            for _ in 0..<40 {
                _ = try await topic.partitions[0].append([Record](repeating: Record(value: [UInt8](repeating: 7, count: 100)), count: 10))
            }
            let request = FetchRequest(maxBytes: Int32.max, topics: [.init(topic: "big", partitions: [.init(partitionMaxBytes: Int32.max)])])
            guard case .fetch(let answer) = try await Self.ask(broker, .fetch(request), version: 11) else {
                Issue.record("no fetch answer")
                return
            }
            let records = answer.responses.first?.partitions.first?.records ?? []
            #expect(answer.responses.first?.partitions.first?.errorCode == 0)
            #expect(!records.isEmpty)
            // 40 batches of about 1.1 KiB are stored; at most 4 KiB and one batch come back.
            #expect(records.count <= 4096 + 1200, "answer of \(records.count) bytes")
        }
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

    /// An auto-creation by Metadata that would pass the store's partition limit is refused as
    /// one past the topic limit: UNKNOWN_TOPIC_OR_PARTITION (3), nothing created.
    @Test func metadataAutoCreationStopsAtThePartitionLimit() async throws {
        try await Self.withBroker(partitions: 2, maxPartitions: 3) { broker, store in
            func ask(_ name: String) async throws -> (Int16, Int)? {
                guard case .metadata(let m) = try await Self.ask(broker, .metadata(.init(topics: [.init(name: name)], allowAutoTopicCreation: true)), version: 8)
                else { return nil }
                return m.topics.first.map { ($0.errorCode, $0.partitions.count) }
            }
            let first = try await ask("first"), second = try await ask("second")
            #expect(first?.0 == 0 && first?.1 == 2)
            #expect(second?.0 == 3 && second?.1 == 0, "UNKNOWN_TOPIC_OR_PARTITION")
            #expect(store.topic(named: "second") == nil)
            #expect(store.topics().map(\.name) == ["first"])
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
        #expect(try KafkaListenerConfiguration(listen: "", advertisedHost: nil, authenticator: nil) == nil)
        #expect(throws: KafkaListenerConfigurationError.self) { try KafkaListenerConfiguration(listen: "0.0.0.0:1", advertisedHost: nil, authenticator: nil) }
        let wildcard = try #require(try KafkaListenerConfiguration(listen: "0.0.0.0:1", advertisedHost: "10.0.0.5", authenticator: nil))
        #expect(try wildcard.checkedAdvertisedHost() == "10.0.0.5" && wildcard.bindFailureIsFatal)
        #expect(wildcard.advertised == KafkaListenerConfiguration.served && wildcard.advertised.versions(of: .saslHandshake) == nil)
        // With authentication on, the listener is on too, and advertises SASL.
        let authenticated = try #require(try KafkaListenerConfiguration(listen: nil, advertisedHost: nil, authenticator: { _, _ in nil }))
        #expect(authenticated.advertised.versions(of: .saslHandshake) == 0...1 && authenticated.advertised.versions(of: .saslAuthenticate) == 0...1)
        let byDefault = try #require(try KafkaListenerConfiguration(listen: nil, advertisedHost: nil, authenticator: nil))
        #expect(byDefault.host == "127.0.0.1" && byDefault.port == 9092 && !byDefault.bindFailureIsFatal)
    }

    // MARK: Consumer groups

    /// A consumer subscription of `topics` (consumer protocol v0): what the broker reads to show them.
    static func subscription(_ topics: [String]) -> [UInt8] {
        var w = KafkaWriter()
        w.writeInt16(0)
        w.writeArrayCount(topics.count)
        for t in topics { w.writeString(t) }
        w.writeInt32(-1)   // null user data
        return w.bytes
    }

    static func join(_ broker: KafkaBroker, version: Int16, group: String = "g", member: String = "", session: Int32 = 10_000,
                     protocols: [String] = ["range"]) async throws -> JoinGroupResponse {
        let request = JoinGroupRequest(groupId: group, sessionTimeoutMs: session, rebalanceTimeoutMs: 10_000, memberId: member,
                                       protocolType: "consumer", protocols: protocols.map { .init(name: $0, metadata: subscription(["t"])) })
        guard case .joinGroup(let r) = try await ask(broker, .joinGroup(request), version: version) else { throw CancellationError() }
        return r
    }

    @Test func groupsAreAdvertisedAtTheIssuesVersions() async throws {
        try await Self.withBroker { broker, _ in
            guard case .apiVersions(let r) = try await Self.ask(broker, .apiVersions(.init()), version: 2) else { return }
            let table = Dictionary(uniqueKeysWithValues: r.apiKeys.map { ($0.apiKey, $0.minVersion...$0.maxVersion) })
            #expect(table[8] == 2...7 && table[9] == 1...5 && table[11] == 0...5 && table[12] == 0...3 && table[13] == 0...3 && table[14] == 0...3)
            #expect(table[23] == nil, "never OffsetForLeaderEpoch")
        }
    }

    /// DescribeGroups and ListGroups (advertised 0–4 and 0–2): a classic group's state, protocol,
    /// member metadata and the leader's assignment as encoded; a commit-only group; an unknown
    /// group is Dead; an invalid name 24.
    @Test func describeAndListGroupsShowTheCoordinatorsGroups() async throws {
        try await Self.withBroker(partitions: 2) { broker, store in
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 2))
            guard case .apiVersions(let versions) = try await Self.ask(broker, .apiVersions(.init()), version: 2) else { return }
            let table = Dictionary(uniqueKeysWithValues: versions.apiKeys.map { ($0.apiKey, $0.minVersion...$0.maxVersion) })
            #expect(table[15] == 0...4 && table[16] == 0...2)

            let id = try await Self.join(broker, version: 5).memberId
            let joined = try await Self.join(broker, version: 5, member: id)
            let assignment: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]
            let sync = SyncGroupRequest(groupId: "g", generationId: joined.generationId, memberId: id,
                                        assignments: [.init(memberId: id, assignment: assignment)])
            guard case .syncGroup(let synced) = try await Self.ask(broker, .syncGroup(sync), version: 3) else { return }
            #expect(synced.errorCode == 0)
            let commit = OffsetCommitRequest(groupId: "only-commits", generationIdOrMemberEpoch: -1, memberId: "",
                                             topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 0)])])
            _ = try await Self.ask(broker, .offsetCommit(commit), version: 7)

            for version in Int16(0)...4 {
                guard case .describeGroups(let d) = try await Self.ask(broker, .describeGroups(.init(groups: ["g", "only-commits", "unknown", "bad name"])), version: version) else { return }
                #expect(d.groups.map(\.groupId) == ["g", "only-commits", "unknown", "bad name"])
                let g = d.groups[0]
                #expect(g.errorCode == 0 && g.groupState == "Stable" && g.protocolType == "consumer" && g.protocolData == "range", "\(g.errorCode) \(g.groupState) \(g.protocolType) \(g.protocolData) \(g.members.count)")
                #expect(g.members.count == 1 && g.members[0].memberId == id && g.members[0].clientId == "t")
                #expect(g.members[0].memberMetadata == Self.subscription(["t"]) && g.members[0].memberAssignment == assignment)
                #expect(d.groups[1].errorCode == 0 && d.groups[1].groupState == "Empty" && d.groups[1].protocolType == "" && d.groups[1].members.isEmpty)
                #expect(d.groups[2].errorCode == 0 && d.groups[2].groupState == "Dead")
                #expect(d.groups[3].errorCode == 24)
            }
            for version in Int16(0)...2 {
                guard case .listGroups(let l) = try await Self.ask(broker, .listGroups(.init()), version: version) else { return }
                #expect(l.errorCode == 0)
                #expect(l.groups.map { [$0.groupId, $0.protocolType] } == [["g", "consumer"], ["only-commits", ""]])
            }
        }
    }

    /// JoinGroup v4+ hands a dynamic member an id first (79); v0 joins at once. The leader gets
    /// every member's metadata, SyncGroup relays the leader's assignment, Heartbeat and the
    /// commit answer the state machine's codes.
    @Test func joinSyncHeartbeatCommitFetchAndLeaveOverTheWire() async throws {
        try await Self.withBroker(partitions: 2) { broker, store in
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 2))
            let first = try await Self.join(broker, version: 5)
            #expect(first.errorCode == 79 && !first.memberId.isEmpty && first.generationId == -1)
            let a = try await Self.join(broker, version: 5, member: first.memberId)
            #expect(a.errorCode == 0 && a.generationId == 1 && a.leader == a.memberId && a.protocolName == "range")
            #expect(a.members.map(\.memberId) == [a.memberId] && a.members[0].metadata == Self.subscription(["t"]))
            #expect(try await Self.join(broker, version: 5, member: "nobody").errorCode == 25)
            // Before v4 a new member joins at once.
            let alone = try await Self.join(broker, version: 0, group: "g0")
            #expect(alone.errorCode == 0 && alone.generationId == 1 && alone.leader == alone.memberId)
            #expect(try await Self.join(broker, version: 5, session: 5).errorCode == 26, "below the 10 ms minimum")
            #expect(try await Self.join(broker, version: 5, session: -5).errorCode == 26)
            #expect(try await Self.join(broker, version: 5, protocols: ["other"]).errorCode == 23, "no protocol in common, before an id is handed out")
            #expect(try await Self.join(broker, version: 5, group: "bad name").errorCode == 24)
        }
    }

    @Test func commitsAndFetchesGoToTheGroupsDurableCommits() async throws {
        try await Self.withBroker { broker, store in
            _ = try await store.createTopic(named: "t", configuration: TopicConfiguration(partitions: 1))
            func commit(generation: Int32, member: String, partitions: [OffsetCommitRequest.OffsetCommitRequestTopic.OffsetCommitRequestPartition],
                        topic: String = "t") async throws -> [Int16] {
                let request = OffsetCommitRequest(groupId: "g", generationIdOrMemberEpoch: generation, memberId: member,
                                                  topics: [.init(name: topic, partitions: partitions)])
                guard case .offsetCommit(let r) = try await Self.ask(broker, .offsetCommit(request), version: 7) else { return [] }
                return r.topics.flatMap { $0.partitions.map(\.errorCode) }
            }
            // Outside the membership of a group without members: accepted, metadata kept.
            #expect(try await commit(generation: -1, member: "", partitions: [.init(partitionIndex: 0, committedOffset: 4, committedMetadata: "m")]) == [0])
            #expect(try await commit(generation: -1, member: "", partitions: [.init(partitionIndex: 1, committedOffset: 4)]) == [3])
            #expect(try await commit(generation: -1, member: "", partitions: [.init(partitionIndex: 0, committedOffset: -2)]) == [42])
            #expect(try await commit(generation: -1, member: "", partitions: [
                .init(partitionIndex: 0, committedOffset: 1, committedMetadata: String(repeating: "x", count: 4097))]) == [12])
            #expect(try await commit(generation: -1, member: "", partitions: [.init(partitionIndex: 0, committedOffset: 1)], topic: "nope") == [3])
            func fetch(_ topics: [OffsetFetchRequest.OffsetFetchRequestTopic]?, version: Int16 = 5, group: String = "g") async throws -> OffsetFetchResponse {
                guard case .offsetFetch(let r) = try await Self.ask(broker, .offsetFetch(.init(groupId: group, topics: topics)), version: version) else {
                    throw CancellationError()
                }
                return r
            }
            let all = try await fetch(nil)
            #expect(all.errorCode == 0 && all.topics.map(\.name) == ["t"])
            #expect(all.topics[0].partitions == [.init(partitionIndex: 0, committedOffset: 4, committedLeaderEpoch: -1, metadata: "m", errorCode: 0)])
            let named = try await fetch([.init(name: "t", partitionIndexes: [0, 1]), .init(name: "u", partitionIndexes: [0])])
            #expect(named.topics.flatMap { $0.partitions.map(\.committedOffset) } == [4, -1, -1])
            #expect(try await fetch(nil, group: "bad name").errorCode == 24)
            #expect(try await fetch([.init(name: "t", partitionIndexes: [0])], version: 1, group: "bad name").topics[0].partitions[0].errorCode == 24)
            // A member: fenced by generation; the anonymous commit is refused while it is there.
            let a = try await Self.join(broker, version: 3)
            #expect(a.errorCode == 0)
            guard case .syncGroup(let synced) = try await Self.ask(broker, .syncGroup(.init(groupId: "g", generationId: a.generationId, memberId: a.memberId,
                                                                                        assignments: [.init(memberId: a.memberId, assignment: [0, 1])])), version: 3) else { return }
            #expect(synced.errorCode == 0 && synced.assignment == [0, 1])
            #expect(try await commit(generation: a.generationId, member: a.memberId, partitions: [.init(partitionIndex: 0, committedOffset: 9)]) == [0])
            #expect(try await commit(generation: a.generationId - 1, member: a.memberId, partitions: [.init(partitionIndex: 0, committedOffset: 9)]) == [22])
            #expect(try await commit(generation: a.generationId, member: "x", partitions: [.init(partitionIndex: 0, committedOffset: 9)]) == [25])
            #expect(try await commit(generation: -1, member: "", partitions: [.init(partitionIndex: 0, committedOffset: 9)]) == [25])
            func heartbeat(_ generation: Int32, _ member: String) async throws -> Int16 {
                guard case .heartbeat(let r) = try await Self.ask(broker, .heartbeat(.init(groupId: "g", generationId: generation, memberId: member)), version: 3) else { return -99 }
                return r.errorCode
            }
            #expect(try await heartbeat(a.generationId, a.memberId) == 0)
            #expect(try await heartbeat(a.generationId + 1, a.memberId) == 22)
            #expect(try await heartbeat(a.generationId, "x") == 25)
            // LeaveGroup v3 answers per member; v0 with the member's own code.
            guard case .leaveGroup(let left) = try await Self.ask(broker, .leaveGroup(.init(groupId: "g", members: [.init(memberId: a.memberId), .init(memberId: "x")])), version: 3) else { return }
            #expect(left.errorCode == 0 && left.members.map(\.errorCode) == [0, 25])
            guard case .leaveGroup(let again) = try await Self.ask(broker, .leaveGroup(.init(groupId: "g", memberId: a.memberId)), version: 0) else { return }
            #expect(again.errorCode == 25)
            #expect(try await fetch(nil).topics[0].partitions[0].committedOffset == 9)
        }
    }

    // MARK: SASL/PLAIN

    /// Password "secret": may read and write `open`, read `ro`, use group `g`, for `lifetime`.
    static func saslBroker(lifetime: Duration? = nil, _ body: (KafkaBroker, LogStore) async throws -> Void) async throws {
        try await withBroker({ configuration in
            configuration.authenticator = { _, password in
                guard password == "secret" else { return nil }
                return KafkaPermissions(lifetime: lifetime, topic: { action, topic in topic == "open" || (topic == "ro" && action == .read) },
                                        group: { $0 == "g" })
            }
        }) { broker, store in
            for name in ["open", "ro", "hidden"] { _ = try await store.createTopic(named: name, configuration: TopicConfiguration()) }
            try await body(broker, store)
        }
    }

    static func send(_ broker: KafkaBroker, _ body: KafkaRequest, version: Int16, session: inout KafkaSession) async -> KafkaBroker.Outcome {
        let frame = KafkaRequestFrame(header: RequestHeader(apiKey: body.apiKey, apiVersion: version, correlationId: 9, clientId: "t"), body: body).encoded()
        return await broker.handle(frame: Array(frame.dropFirst(4)), session: &session)
    }

    static func answer(_ outcome: KafkaBroker.Outcome, _ apiKey: KafkaAPIKey, version: Int16) throws -> KafkaResponse {
        let bytes: [UInt8]
        switch outcome {
        case .respond(let b), .respondThenClose(let b, _): bytes = b
        default: throw CancellationError()
        }
        return try KafkaResponseFrame.decode(Array(bytes.dropFirst(4)), apiKey: apiKey, version: version).body
    }

    static func plain(_ user: String, _ password: String) -> [UInt8] { [0] + Array(user.utf8) + [0] + Array(password.utf8) }

    /// Before authentication only ApiVersions and the SASL requests are answered; a wrong
    /// password or mechanism is answered, then the connection closed.
    @Test func saslGatesEveryRequestUntilAuthenticated() async throws {
        try await Self.saslBroker { broker, _ in
            var session = KafkaSession(requiresAuthentication: true)
            guard case .apiVersions(let versions) = try Self.answer(await Self.send(broker, .apiVersions(.init()), version: 2, session: &session), .apiVersions, version: 2) else { return }
            #expect(versions.apiKeys.contains { $0.apiKey == 17 && $0.maxVersion == 1 } && versions.apiKeys.contains { $0.apiKey == 36 && $0.maxVersion == 1 })
            guard case .close(let reason) = await Self.send(broker, .metadata(.init(topics: nil)), version: 8, session: &session) else {
                Issue.record("Metadata answered before authentication")
                return
            }
            #expect(reason.contains("before SASL authentication"))
            let early = await Self.send(broker, .saslAuthenticate(.init(authBytes: Self.plain("u", "secret"))), version: 1, session: &session)
            guard case .respondThenClose = early, case .saslAuthenticate(let outOfTurn) = try Self.answer(early, .saslAuthenticate, version: 1) else { return }
            #expect(outOfTurn.errorCode == 34)

            var other = KafkaSession(requiresAuthentication: true)
            let scram = await Self.send(broker, .saslHandshake(.init(mechanism: "SCRAM-SHA-256")), version: 1, session: &other)
            guard case .respondThenClose = scram, case .saslHandshake(let refused) = try Self.answer(scram, .saslHandshake, version: 1) else { return }
            #expect(refused.errorCode == 33 && refused.mechanisms == ["PLAIN"])

            var wrong = KafkaSession(requiresAuthentication: true)
            guard case .saslHandshake(let ok) = try Self.answer(await Self.send(broker, .saslHandshake(.init(mechanism: "PLAIN")), version: 1, session: &wrong), .saslHandshake, version: 1) else { return }
            #expect(ok.errorCode == 0 && ok.mechanisms == ["PLAIN"])
            let denied = await Self.send(broker, .saslAuthenticate(.init(authBytes: Self.plain("u", "wrong"))), version: 1, session: &wrong)
            guard case .respondThenClose = denied, case .saslAuthenticate(let failed) = try Self.answer(denied, .saslAuthenticate, version: 1) else { return }
            #expect(failed.errorCode == 58 && failed.errorMessage?.contains("not a token") == true && failed.errorMessage?.contains("wrong") == false)
            for malformed in [[UInt8]("secret".utf8), [0, 0] + Array("secret".utf8), Self.plain("u", "")] {
                var s = KafkaSession(requiresAuthentication: true)
                _ = await Self.send(broker, .saslHandshake(.init(mechanism: "PLAIN")), version: 1, session: &s)
                guard case .saslAuthenticate(let r) = try Self.answer(await Self.send(broker, .saslAuthenticate(.init(authBytes: malformed)), version: 1, session: &s),
                                                                   .saslAuthenticate, version: 1) else { return }
                #expect(r.errorCode == 58)
            }
        }
    }

    /// Once authenticated, a connection may do what its token grants, as over HTTP.
    @Test func saslPermissionsAreTheTokens() async throws {
        try await Self.saslBroker { broker, _ in
            var session = KafkaSession(requiresAuthentication: true)
            _ = await Self.send(broker, .saslHandshake(.init(mechanism: "PLAIN")), version: 1, session: &session)
            guard case .saslAuthenticate(let ok) = try Self.answer(await Self.send(broker, .saslAuthenticate(.init(authBytes: Self.plain("svc", "secret"))), version: 1, session: &session),
                                                                .saslAuthenticate, version: 1) else { return }
            #expect(ok.errorCode == 0 && ok.sessionLifetimeMs == 0)
            func ask(_ body: KafkaRequest, _ version: Int16) async throws -> KafkaResponse {
                try Self.answer(await Self.send(broker, body, version: version, session: &session), body.apiKey, version: version)
            }
            guard case .metadata(let all) = try await ask(.metadata(.init(topics: nil)), 8),
                  case .metadata(let named) = try await ask(.metadata(.init(topics: [.init(name: "hidden"), .init(name: "new"), .init(name: "ro")], allowAutoTopicCreation: true)), 8)
            else { return }
            #expect(all.topics.map(\.name) == ["open", "ro"])
            #expect(named.topics.map(\.errorCode) == [29, 29, 0])
            let batch = try EncodedBatch(records: [Record(value: Array("v".utf8))], codec: .none, now: 1).bytes
            guard case .produce(let produced) = try await ask(.produce(ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [
                .init(name: "open", partitionData: [.init(index: 0, records: batch[...])]),
                .init(name: "ro", partitionData: [.init(index: 0, records: batch[...])]),
            ])), 8) else { return }
            #expect(produced.responses.map { $0.partitionResponses[0].errorCode } == [0, 29])
            guard case .listOffsets(let listed) = try await ask(.listOffsets(.init(replicaId: -1, topics: [
                .init(name: "ro", partitions: [.init(partitionIndex: 0, timestamp: -1)]),
                .init(name: "hidden", partitions: [.init(partitionIndex: 0, timestamp: -1)]),
            ])), 5) else { return }
            #expect(listed.topics.map { $0.partitions[0].errorCode } == [0, 29])
            guard case .findCoordinator(let coordinator) = try await ask(.findCoordinator(.init(key: "other", keyType: 0)), 2),
                  case .joinGroup(let join) = try await ask(.joinGroup(.init(groupId: "other", sessionTimeoutMs: 10_000, protocolType: "consumer",
                                                                               protocols: [.init(name: "range", metadata: [])])), 5),
                  case .offsetCommit(let commit) = try await ask(.offsetCommit(.init(groupId: "g", topics: [
                      .init(name: "ro", partitions: [.init(partitionIndex: 0, committedOffset: 0)]),
                      .init(name: "hidden", partitions: [.init(partitionIndex: 0, committedOffset: 0)]),
                  ])), 7),
                  case .offsetFetch(let fetched) = try await ask(.offsetFetch(.init(groupId: "other", topics: nil)), 5)
            else { return }
            #expect(coordinator.errorCode == 30 && join.errorCode == 30 && fetched.errorCode == 30)
            #expect(commit.topics.map { $0.partitions[0].errorCode } == [0, 29])
        }
    }

    /// SaslHandshake v0: the token follows as a bare frame, answered with an empty token.
    @Test func saslHandshakeV0TakesTheBareToken() async throws {
        try await Self.saslBroker { broker, _ in
            var session = KafkaSession(requiresAuthentication: true)
            _ = await Self.send(broker, .saslHandshake(.init(mechanism: "PLAIN")), version: 0, session: &session)
            #expect(await broker.handle(frame: Self.plain("user", "secret"), session: &session) == .respond([0, 0, 0, 0]))
            guard case .metadata(let m) = try Self.answer(await Self.send(broker, .metadata(.init(topics: nil)), version: 4, session: &session), .metadata, version: 4) else { return }
            #expect(m.topics.map(\.name) == ["open", "ro"])
            var wrong = KafkaSession(requiresAuthentication: true)
            _ = await Self.send(broker, .saslHandshake(.init(mechanism: "PLAIN")), version: 0, session: &wrong)
            guard case .close = await broker.handle(frame: Self.plain("user", "nope"), session: &wrong) else { Issue.record("accepted"); return }
        }
    }

    /// A token's lifetime (a JWT's exp) is told to the client; past it, the connection's next
    /// request closes it unless it authenticated again.
    @Test func anExpiredAuthenticationClosesTheConnection() async throws {
        try await Self.saslBroker(lifetime: .milliseconds(200)) { broker, _ in
            var session = KafkaSession(requiresAuthentication: true)
            _ = await Self.send(broker, .saslHandshake(.init(mechanism: "PLAIN")), version: 1, session: &session)
            guard case .saslAuthenticate(let ok) = try Self.answer(await Self.send(broker, .saslAuthenticate(.init(authBytes: Self.plain("u", "secret"))), version: 1, session: &session),
                                                                .saslAuthenticate, version: 1) else { return }
            let authenticated = ContinuousClock.now
            #expect(ok.errorCode == 0 && ok.sessionLifetimeMs == 200)
            switch await Self.send(broker, .metadata(.init(topics: [])), version: 8, session: &session) {
            case .respond: break
            // Only once the lifetime passed (a stalled machine).
            case .close: #expect(ContinuousClock.now - authenticated >= .milliseconds(200))
            default: Issue.record("neither answered nor closed")
            }
            try await Task.sleep(until: authenticated.advanced(by: .milliseconds(250)))
            guard case .close(let reason) = await Self.send(broker, .metadata(.init(topics: [])), version: 8, session: &session) else { Issue.record("answered"); return }
            #expect(reason.contains("expired"))
        }
    }
}
