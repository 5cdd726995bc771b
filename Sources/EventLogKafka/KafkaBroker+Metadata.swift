import EventLog
import KafkaProtocol

extension KafkaBroker {
    /// Metadata: this one node; a null topic list means every visible topic the connection may
    /// read or write, an empty one none. A named topic that does not exist is created with the
    /// topic defaults when the request allows it (always before v4), auto-creation is on and
    /// the connection may manage it, else answered with error 3. A topic the connection may
    /// neither read nor write is error 29.
    func metadata(_ request: MetadataRequest, version: Int16, permissions: KafkaPermissions) async -> MetadataResponse {
        typealias Topic = MetadataResponse.MetadataResponseTopic
        var topics: [Topic] = []
        if let requested = request.topics {
            for name in requested.map(\.name) {
                topics.append(await metadataTopic(named: name, create: request.allowAutoTopicCreation, permissions: permissions))
            }
        } else {
            topics = store.topics()
                .filter { !$0.configuration.isInternal && (permissions.allows(.read, topic: $0.name) || permissions.allows(.write, topic: $0.name)) }
                .sorted { $0.name < $1.name }.map(describe)
        }
        return MetadataResponse(
            brokers: [.init(nodeId: configuration.nodeId, host: advertisedHost, port: advertisedPort, rack: nil)],
            clusterId: configuration.clusterId,
            controllerId: configuration.nodeId,
            topics: topics,
            clusterAuthorizedOperations: Int32.min)
    }

    private func metadataTopic(named name: String, create: Bool, permissions: KafkaPermissions) async -> MetadataResponse.MetadataResponseTopic {
        func failed(_ code: KafkaErrorCode) -> MetadataResponse.MetadataResponseTopic {
            .init(errorCode: code.rawValue, name: name, isInternal: false, partitions: [], topicAuthorizedOperations: Int32.min)
        }
        guard permissions.allows(.read, topic: name) || permissions.allows(.write, topic: name) else {
            return failed(.topicAuthorizationFailed)
        }
        if let topic = visibleTopic(name) { return describe(topic) }
        guard store.topic(named: name) == nil else { return failed(.unknownTopicOrPartition) }   // internal
        do { try LogStore.validateTopicName(name) } catch { return failed(.invalidTopic) }
        guard create, configuration.autoCreateTopics, permissions.allows(.manage, topic: name) else { return failed(.unknownTopicOrPartition) }
        do {
            // The store's defaults (the one source of topic defaults, set by logd's --default-* flags).
            let existed = store.topic(named: name) != nil
            let topic = try await store.topic(named: name, creatingWith: store.defaultTopicConfiguration,
                                              maxTopics: configuration.autoCreateMaxTopics)
            if !existed {
                logger.info("created topic \(name) for a Kafka client", metadata: ["partitions": "\(topic.partitions.count)"])
            }
            return topic.configuration.isInternal ? failed(.unknownTopicOrPartition) : describe(topic)
        } catch {
            // The topic limit, or a race with a concurrent delete: the client retries Metadata.
            return failed(.unknownTopicOrPartition)
        }
    }

    private func describe(_ topic: Topic) -> MetadataResponse.MetadataResponseTopic {
        let node = configuration.nodeId
        return .init(
            errorCode: 0, name: topic.name, isInternal: false,
            partitions: topic.partitions.indices.map { i in
                .init(errorCode: 0, partitionIndex: Int32(i), leaderId: node, leaderEpoch: -1,
                      replicaNodes: [node], isrNodes: [node], offlineReplicas: [])
            },
            topicAuthorizedOperations: Int32.min)
    }

    /// FindCoordinator: this node coordinates every group (the connection may use); transactions
    /// have no coordinator.
    func findCoordinator(_ request: FindCoordinatorRequest, permissions: KafkaPermissions) -> FindCoordinatorResponse {
        guard request.keyType == 0 else {
            return FindCoordinatorResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue,
                                           errorMessage: "transactions are not supported", nodeId: -1, host: "", port: -1)
        }
        guard permissions.allowsGroup(request.key) else {
            return FindCoordinatorResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue,
                                           errorMessage: "this connection may not use group \(request.key)", nodeId: -1, host: "", port: -1)
        }
        return FindCoordinatorResponse(errorCode: 0, errorMessage: nil, nodeId: configuration.nodeId, host: advertisedHost, port: advertisedPort)
    }

    /// InitProducerId: a new idempotent producer id at epoch 0. Transactional ids are refused.
    func initProducerId(_ request: InitProducerIdRequest) -> InitProducerIdResponse {
        if request.transactionalId != nil {
            return InitProducerIdResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue, producerId: -1, producerEpoch: -1)
        }
        let id = producerIDs.next()
        logger.debug("Kafka producer id \(id) handed out")
        return InitProducerIdResponse(errorCode: 0, producerId: id, producerEpoch: 0)
    }
}
