public import EventLog
import KafkaProtocol
public import Logging

/// Answers Kafka requests from a store: one request frame in, one response frame (or none) out.
///
/// No networking here: ``KafkaListener`` hands it each frame of a connection in order and writes
/// what it returns, and tests can call it directly. Requests are served from the same store,
/// topics and durability as the HTTP API.
public final class KafkaBroker: Sendable {
    /// What to do after a request.
    public enum Outcome: Sendable, Equatable {
        /// Write this response frame (size prefix included).
        case respond([UInt8])
        /// Write nothing (Produce with acks=0).
        case noResponse
        /// Close the connection: the request broke the protocol (a version not advertised, a
        /// malformed frame, a request before authentication). The sentence says why, for the log.
        case close(String)
        /// Write this response frame, then close the connection (a failed authentication).
        case respondThenClose([UInt8], String)
    }

    let store: LogStore
    let configuration: KafkaListenerConfiguration
    let logger: Logger
    /// The store's consumer groups: the coordinator the HTTP API uses, so that a group has one
    /// membership and one set of commits whichever protocol its clients speak.
    let groups: GroupCoordinatorProvider
    let producerIDs = ProducerIDAllocator()
    /// The host and port clients are told to connect to.
    let advertisedHost: String
    let advertisedPort: Int32

    /// A broker serving `store`, advertising `advertisedHost`:`advertisedPort`, with the
    /// consumer groups of `groups`.
    public init(store: LogStore, groups: @escaping GroupCoordinatorProvider, configuration: KafkaListenerConfiguration,
                advertisedHost: String, advertisedPort: Int, logger: Logger) {
        self.store = store
        self.groups = groups
        self.configuration = configuration
        self.advertisedHost = advertisedHost
        self.advertisedPort = Int32(advertisedPort)
        self.logger = logger
    }

    /// Answers one request frame (the bytes after the size prefix) of a connection without
    /// anything to remember (tests).
    public func handle(frame: [UInt8]) async -> Outcome {
        var session = KafkaSession(requiresAuthentication: configuration.authenticator != nil)
        return await handle(frame: frame, session: &session)
    }

    /// Answers one request frame (the bytes after the size prefix) of the connection `session`
    /// describes.
    public func handle(frame: [UInt8], session: inout KafkaSession) async -> Outcome {
        if session.authentication == .awaitingRawToken {
            return await authenticate(rawToken: frame, session: &session)
        }
        let request: KafkaRequestFrame
        do {
            switch try KafkaRequestFrame.decode(frame, advertised: configuration.advertised) {
            case .unsupportedApiVersions(let header):
                return .respond(KafkaResponseFrame.unsupportedApiVersions(correlationId: header.correlationId, advertised: configuration.advertised))
            case .request(let decoded):
                request = decoded
            }
        } catch {
            return .close(error.message)
        }
        let header = request.header
        session.clientID = header.clientId
        if session.authentication != .off, let gate = await authenticationGate(request, session: &session) {
            return gate
        }
        let may = session.permissions
        func respond(_ body: some KafkaMessage) -> Outcome {
            .respond(KafkaResponseFrame.encode(correlationId: header.correlationId, body: body, version: header.apiVersion))
        }
        switch request.body {
        case .apiVersions:
            return respond(configuration.advertised.response())
        case .metadata(let body):
            return respond(await metadata(body, version: header.apiVersion, permissions: may))
        case .produce(let body):
            let response = await produce(body, permissions: may)
            return body.acks == 0 ? .noResponse : respond(response)
        case .fetch(let body):
            return respond(await fetch(body, permissions: may))
        case .listOffsets(let body):
            return respond(await listOffsets(body, permissions: may))
        case .initProducerId(let body):
            return respond(initProducerId(body))
        case .findCoordinator(let body):
            return respond(findCoordinator(body, permissions: may))
        case .joinGroup(let body):
            return respond(await joinGroup(body, version: header.apiVersion, session: session))
        case .syncGroup(let body):
            return respond(await syncGroup(body, permissions: may))
        case .heartbeat(let body):
            return respond(await heartbeat(body, permissions: may))
        case .leaveGroup(let body):
            return respond(await leaveGroup(body, version: header.apiVersion, permissions: may))
        case .offsetCommit(let body):
            return respond(await offsetCommit(body, permissions: may))
        case .offsetFetch(let body):
            return respond(await offsetFetch(body, version: header.apiVersion, permissions: may))
        case .describeGroups(let body):
            return respond(await describeGroups(body, permissions: may))
        case .listGroups:
            return respond(await listGroups(permissions: may))
        default:
            // Decoded only when advertised: a configuration listing an API served nowhere here.
            return .close("\(header.apiKey) is advertised but not served by this listener.")
        }
    }

    /// The topic `name` when clients may see it (internal topics are hidden).
    func visibleTopic(_ name: String) -> Topic? {
        guard let topic = store.topic(named: name), !topic.configuration.isInternal else { return nil }
        return topic
    }

    /// The partition `index` of the visible topic `name`, with the topic; `nil` when there is
    /// none (answered with UNKNOWN_TOPIC_OR_PARTITION).
    func partition(_ name: String, _ index: Int32) -> (topic: Topic, partition: Partition)? {
        guard let topic = visibleTopic(name), index >= 0, Int(index) < topic.partitions.count else { return nil }
        return (topic, topic.partitions[Int(index)])
    }

    /// The Kafka error code for an engine error.
    static func errorCode(for error: any Error) -> KafkaErrorCode {
        guard let error = error as? LogError else { return .unknownServerError }
        switch error.code {
        case .offsetOutOfRange: return .offsetOutOfRange
        case .topicNotFound, .partitionNotFound, .internalTopic: return .unknownTopicOrPartition
        case .invalidTopicName: return .invalidTopic
        case .recordTooLarge: return .messageTooLarge
        case .staleProducerEpoch: return .invalidProducerEpoch
        case .outOfOrderSequence: return .outOfOrderSequenceNumber
        case .unsupportedCodec: return .unsupportedCompressionType
        case .corruptData: return .corruptMessage
        case .invalidArgument: return .invalidRecord
        case .diskFull, .ioError, .readOnly, .closed: return .kafkaStorageError
        default: return .unknownServerError
        }
    }
}

/// Opens (once) and returns the store's group coordinator.
public typealias GroupCoordinatorProvider = @Sendable () async throws -> GroupCoordinator
