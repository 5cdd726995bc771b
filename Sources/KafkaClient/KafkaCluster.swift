import KafkaProtocol

/// A Kafka cluster (or one `logd`) as a client sees it: bootstrap brokers, the brokers and
/// partition leaders Metadata names, and one ``KafkaConnection`` per broker, opened when first
/// needed and dropped when it fails.
///
/// Not thread-safe: one caller at a time.
public final class KafkaCluster {
    /// A topic's partitions and their leaders.
    public struct TopicLayout: Sendable, Equatable {
        /// The topic's name.
        public var name: String
        /// The leader's node id of each partition, by partition index (-1 while it has none).
        public var leaders: [Int32]
        /// How many partitions the topic has.
        public var partitionCount: Int { leaders.count }
    }

    /// The bootstrap brokers, tried in turn.
    public let bootstrap: [BrokerAddress]
    private let clientId: String
    private let timeoutMs: Int
    private let maxResponseBytes: Int
    private let credentials: SASLPlainCredentials?
    private var connections: [Int32: KafkaConnection] = [:]
    private var bootstrapConnection: KafkaConnection?
    private var brokers: [Int32: BrokerAddress] = [:]
    private var coordinators: [String: Int32] = [:]
    /// The topics last described by Metadata, by name.
    public private(set) var topics: [String: TopicLayout] = [:]

    /// A cluster reached through `bootstrap`; nothing is connected until a request needs it.
    public init(bootstrap: [BrokerAddress], clientId: String, timeoutMs: Int, maxResponseBytes: Int = 64 << 20,
                credentials: SASLPlainCredentials? = nil) {
        precondition(!bootstrap.isEmpty, "at least one bootstrap broker")
        self.bootstrap = bootstrap
        self.clientId = clientId
        self.timeoutMs = timeoutMs
        self.maxResponseBytes = maxResponseBytes
        self.credentials = credentials
    }

    /// Closes every connection; the next request opens new ones (after a failure, or to stop).
    public func disconnect() {
        bootstrapConnection?.close()
        bootstrapConnection = nil
        for connection in connections.values { connection.close() }
        connections = [:]
        coordinators = [:]
    }

    /// A connection to any broker: the last one that worked, or the bootstrap brokers in turn.
    ///
    /// - Throws: the last bootstrap broker's ``KafkaClientError``.
    public func anyConnection() throws(KafkaClientError) -> KafkaConnection {
        if let open = bootstrapConnection, !open.isClosed { return open }
        if let open = connections.values.first(where: { !$0.isClosed }) { return open }
        var last: KafkaClientError?
        for address in bootstrap {
            do {
                let connection = try open(address)
                bootstrapConnection = connection
                return connection
            } catch {
                last = error
            }
        }
        throw last!
    }

    /// The connection to broker `node` (as Metadata names it), opened if needed.
    ///
    /// - Throws: ``KafkaClientError/Code/connectionFailed`` when the node is not known (refresh
    ///   the metadata) or cannot be reached.
    public func connection(toNode node: Int32) throws(KafkaClientError) -> KafkaConnection {
        if let open = connections[node], !open.isClosed { return open }
        guard let address = brokers[node] else {
            throw KafkaClientError(.connectionFailed, "no broker with node id \(node) is known; the cluster's metadata is refreshed.")
        }
        let connection = try open(address)
        connections[node] = connection
        return connection
    }

    private func open(_ address: BrokerAddress) throws(KafkaClientError) -> KafkaConnection {
        try KafkaConnection(to: address, clientId: clientId, timeoutMs: timeoutMs, maxResponseBytes: maxResponseBytes, credentials: credentials)
    }

    /// Asks Metadata about `names` (all topics for `nil`), creating missing ones when
    /// `autoCreate` and the broker allows it, and records the brokers and leaders.
    ///
    /// - Returns: the topics described, by name (a topic with an error is left out).
    /// - Throws: ``KafkaClientError``; a topic the broker refuses to describe for a reason
    ///   other than not existing (authorization, invalid name) is ``KafkaClientError/Code/brokerError``.
    @discardableResult
    public func refreshMetadata(topics names: [String]?, autoCreate: Bool = false) throws(KafkaClientError) -> [String: TopicLayout] {
        let connection = try anyConnection()
        let request = MetadataRequest(topics: names.map { $0.map { .init(name: $0) } }, allowAutoTopicCreation: autoCreate)
        let response: MetadataResponse = try connection.send(request)
        for broker in response.brokers {
            brokers[broker.nodeId] = BrokerAddress(host: broker.host, port: Int(broker.port))
        }
        var described: [String: TopicLayout] = [:]
        for topic in response.topics {
            let code = KafkaErrorCode(rawValue: topic.errorCode)
            if code == .none, !topic.isInternal {
                var leaders = [Int32](repeating: -1, count: topic.partitions.count)
                for p in topic.partitions where p.partitionIndex >= 0 && Int(p.partitionIndex) < leaders.count {
                    leaders[Int(p.partitionIndex)] = p.errorCode == 0 ? p.leaderId : -1
                }
                let layout = TopicLayout(name: topic.name, leaders: leaders)
                described[topic.name] = layout
                topics[topic.name] = layout
            } else if code == .topicAuthorizationFailed || code == .invalidTopic {
                throw KafkaClientError(.brokerError, "the broker at \(connection.address) refuses topic \(topic.name) (Kafka error \(code.rawValue)).", kafkaErrorCode: code)
            }
        }
        return described
    }

    /// The connection to the leader of `partition` of `topic`, from the last metadata.
    ///
    /// - Throws: ``KafkaClientError/Code/connectionFailed`` (retriable) when the leader is not
    ///   known or cannot be reached.
    public func leaderConnection(topic: String, partition: Int) throws(KafkaClientError) -> KafkaConnection {
        guard let layout = topics[topic], partition < layout.partitionCount, layout.leaders[partition] >= 0 else {
            throw KafkaClientError(.connectionFailed, "the leader of \(topic)/\(partition) is not known yet.")
        }
        return try connection(toNode: layout.leaders[partition])
    }

    /// The leader's node id of `partition` of `topic`, from the last metadata (-1 when unknown).
    public func leader(topic: String, partition: Int) -> Int32 {
        guard let layout = topics[topic], partition < layout.partitionCount else { return -1 }
        return layout.leaders[partition]
    }

    /// The connection to `group`'s coordinator (FindCoordinator), opened if needed.
    ///
    /// - Throws: ``KafkaClientError``; a coordinator that is not available yet is a retriable
    ///   ``KafkaClientError/Code/brokerError``.
    public func coordinator(for group: String) throws(KafkaClientError) -> KafkaConnection {
        if let node = coordinators[group], let open = connections[node], !open.isClosed { return open }
        let any = try anyConnection()
        let response: FindCoordinatorResponse = try any.send(FindCoordinatorRequest(key: group, keyType: 0))
        guard response.errorCode == 0 else {
            let code = KafkaErrorCode(rawValue: response.errorCode)
            throw KafkaClientError(.brokerError, "the broker at \(any.address) found no coordinator for group \(group) (Kafka error \(code.rawValue)\(response.errorMessage.map { ": \($0)" } ?? "")).", kafkaErrorCode: code)
        }
        brokers[response.nodeId] = BrokerAddress(host: response.host, port: Int(response.port))
        coordinators[group] = response.nodeId
        return try connection(toNode: response.nodeId)
    }

    /// Forgets `group`'s coordinator (after NOT_COORDINATOR), so the next call finds it again.
    public func forgetCoordinator(of group: String) { coordinators[group] = nil }
}
