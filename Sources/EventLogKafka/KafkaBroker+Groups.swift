import EventLog
import KafkaProtocol

extension KafkaBroker {
    /// The longest offset-commit metadata kept (Kafka's `offset.metadata.max.bytes`).
    static let maxCommitMetadataBytes = 4096

    /// The store's group coordinator, the one the HTTP API uses; `nil` (logged) when it cannot
    /// be opened, answered with COORDINATOR_NOT_AVAILABLE (retriable).
    func coordinator() async -> GroupCoordinator? {
        do {
            return try await groups()
        } catch {
            logger.error("the group coordinator is not available to Kafka clients", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// JoinGroup: ``GroupCoordinator/joinClassic(_:)``, which returns once the group's join
    /// phase ends (this connection's later requests wait behind it, as in Kafka).
    func joinGroup(_ request: JoinGroupRequest, version: Int16, session: KafkaSession) async -> JoinGroupResponse {
        func failed(_ code: KafkaErrorCode, memberId: String? = nil) -> JoinGroupResponse {
            JoinGroupResponse(errorCode: code.rawValue, generationId: -1, protocolName: "", leader: "",
                              memberId: memberId ?? request.memberId, members: [])
        }
        guard session.permissions.allowsGroup(request.groupId) else { return failed(.groupAuthorizationFailed) }
        guard let coordinator = await coordinator() else { return failed(.coordinatorNotAvailable) }
        let topics = request.protocolType == ConsumerProtocol.protocolType
            ? request.protocols.lazy.compactMap { ConsumerProtocol.subscribedTopics($0.metadata) }.first ?? [] : []
        let sessionTimeout = Duration.milliseconds(request.sessionTimeoutMs)
        let join = ClassicJoinRequest(
            group: request.groupId, memberID: request.memberId.isEmpty ? nil : MemberID(request.memberId),
            requiresKnownMemberID: version >= 4, protocolType: request.protocolType,
            protocols: request.protocols.map { ClassicProtocol(name: $0.name, metadata: $0.metadata) },
            sessionTimeout: sessionTimeout,
            // v0 has no rebalance timeout: the session timeout stands for it, as in Kafka.
            rebalanceTimeout: version >= 1 ? .milliseconds(request.rebalanceTimeoutMs) : sessionTimeout,
            clientID: session.clientID ?? "", clientHost: session.clientHost, topics: topics)
        do {
            switch try await coordinator.joinClassic(join) {
            case .memberIDRequired(let id):
                return failed(.memberIdRequired, memberId: id.rawValue)
            case .joined(let joined):
                return JoinGroupResponse(
                    errorCode: 0, generationId: Int32(clamping: joined.generation), protocolName: joined.protocolName,
                    leader: joined.leader.rawValue, memberId: joined.memberID.rawValue,
                    members: joined.members.map { .init(memberId: $0.id.rawValue, groupInstanceId: nil, metadata: $0.metadata) })
            }
        } catch {
            return failed(Self.groupErrorCode(for: error, invalidArgument: .invalidSessionTimeout))
        }
    }

    /// SyncGroup: ``GroupCoordinator/syncClassic(_:member:generation:assignments:)``; the
    /// leader's assignments are relayed as they are (and read, when they are the consumer
    /// protocol's, only to show them in descriptions).
    func syncGroup(_ request: SyncGroupRequest, permissions: KafkaPermissions) async -> SyncGroupResponse {
        guard permissions.allowsGroup(request.groupId) else {
            return SyncGroupResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, assignment: [])
        }
        guard let coordinator = await coordinator() else {
            return SyncGroupResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, assignment: [])
        }
        var assignments: [MemberID: ClassicAssignment] = [:]
        for given in request.assignments {
            let partitions = (ConsumerProtocol.assignedPartitions(given.assignment) ?? []).flatMap { topic in
                topic.partitions.map { TopicPartition(topic.topic, Int($0)) }
            }
            assignments[MemberID(given.memberId)] = ClassicAssignment(bytes: given.assignment, partitions: partitions.sorted())
        }
        do {
            let assignment = try await coordinator.syncClassic(
                request.groupId, member: MemberID(request.memberId), generation: Int(request.generationId), assignments: assignments)
            return SyncGroupResponse(errorCode: 0, assignment: assignment)
        } catch {
            return SyncGroupResponse(errorCode: Self.groupErrorCode(for: error).rawValue, assignment: [])
        }
    }

    /// Heartbeat: REBALANCE_IN_PROGRESS (27) during a join phase tells the member to join again.
    func heartbeat(_ request: HeartbeatRequest, permissions: KafkaPermissions) async -> HeartbeatResponse {
        guard permissions.allowsGroup(request.groupId) else {
            return HeartbeatResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
        }
        guard let coordinator = await coordinator() else {
            return HeartbeatResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue)
        }
        do {
            try await coordinator.heartbeatClassic(request.groupId, member: MemberID(request.memberId), generation: Int(request.generationId))
            return HeartbeatResponse(errorCode: 0)
        } catch {
            return HeartbeatResponse(errorCode: Self.groupErrorCode(for: error).rawValue)
        }
    }

    /// LeaveGroup: the members leave and the group rebalances at once. v0–2 name one member
    /// (its error is the answer's); v3 a list, answered per member.
    func leaveGroup(_ request: LeaveGroupRequest, version: Int16, permissions: KafkaPermissions) async -> LeaveGroupResponse {
        guard permissions.allowsGroup(request.groupId) else {
            return LeaveGroupResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, members: [])
        }
        guard let coordinator = await coordinator() else {
            return LeaveGroupResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, members: [])
        }
        let leaving = version >= 3 ? request.members.map { MemberID($0.memberId) } : [MemberID(request.memberId)]
        let answers: [MemberID: LogError?]
        do {
            answers = try await coordinator.leaveClassic(request.groupId, members: leaving)
        } catch {
            return LeaveGroupResponse(errorCode: Self.groupErrorCode(for: error).rawValue, members: [])
        }
        func code(_ id: MemberID) -> Int16 {
            (answers[id] ?? nil).map { Self.groupErrorCode(for: $0).rawValue } ?? 0
        }
        if version < 3 { return LeaveGroupResponse(errorCode: code(leaving[0]), members: []) }
        return LeaveGroupResponse(errorCode: 0, members: request.members.map {
            .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, errorCode: code(MemberID($0.memberId)))
        })
    }

    /// OffsetCommit: into the group's durable commits (the same as the HTTP API's), in one
    /// batch. A member commits in its generation (fenced by a rebalance); generation -1 with
    /// no member id is a commit from outside the group's membership, accepted while the group
    /// has no members.
    func offsetCommit(_ request: OffsetCommitRequest, permissions: KafkaPermissions) async -> OffsetCommitResponse {
        typealias Partition = OffsetCommitResponse.OffsetCommitResponseTopic.OffsetCommitResponsePartition
        var codes: [TopicPartition: KafkaErrorCode] = [:]
        var offsets: [TopicPartition: CommittedOffset] = [:]
        for topic in request.topics {
            for p in topic.partitions {
                let tp = TopicPartition(topic.name, Int(p.partitionIndex))
                if !permissions.allowsGroup(request.groupId) {
                    codes[tp] = .groupAuthorizationFailed
                } else if !permissions.allows(.read, topic: topic.name) {
                    codes[tp] = .topicAuthorizationFailed
                } else if partition(topic.name, p.partitionIndex) == nil {
                    codes[tp] = .unknownTopicOrPartition
                } else if (p.committedMetadata?.utf8.count ?? 0) > Self.maxCommitMetadataBytes {
                    codes[tp] = .offsetMetadataTooLarge
                } else if p.committedOffset < 0 {
                    codes[tp] = .invalidRequest
                } else {
                    offsets[tp] = CommittedOffset(Offset(p.committedOffset), metadata: p.committedMetadata)
                }
            }
        }
        let outcome: KafkaErrorCode
        if offsets.isEmpty {
            outcome = .none
        } else if let coordinator = await coordinator() {
            let outside = request.generationIdOrMemberEpoch < 0 && request.memberId.isEmpty
            let member = outside ? nil : GroupMemberGeneration(memberID: MemberID(request.memberId), generation: Int(request.generationIdOrMemberEpoch))
            if outside, await !coordinator.members(of: request.groupId).isEmpty {
                outcome = .unknownMemberId
            } else {
                do {
                    try await coordinator.commit(offsets, for: request.groupId, by: member)
                    outcome = .none
                } catch {
                    outcome = Self.groupErrorCode(for: error, invalidArgument: .invalidRequest)
                }
            }
        } else {
            outcome = .coordinatorNotAvailable
        }
        for tp in offsets.keys { codes[tp] = outcome }
        return OffsetCommitResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { p in
                Partition(partitionIndex: p.partitionIndex,
                          errorCode: codes[TopicPartition(topic.name, Int(p.partitionIndex))]?.rawValue ?? 0)
            })
        })
    }

    /// OffsetFetch: the group's committed offsets (-1 where none), with their metadata; a null
    /// topic list (v2+) means every partition the group committed.
    func offsetFetch(_ request: OffsetFetchRequest, version: Int16, permissions: KafkaPermissions) async -> OffsetFetchResponse {
        typealias Topic = OffsetFetchResponse.OffsetFetchResponseTopic
        typealias Partition = Topic.OffsetFetchResponsePartition
        var failure: KafkaErrorCode = .none
        var table: [TopicPartition: CommittedOffset] = [:]
        if (try? GroupCoordinator.validateGroupName(request.groupId)) == nil {
            failure = .invalidGroupId
        } else if !permissions.allowsGroup(request.groupId) {
            failure = .groupAuthorizationFailed
        } else if let coordinator = await coordinator() {
            table = (try? await coordinator.committedOffsets(for: request.groupId)) ?? [:]
        } else {
            failure = .coordinatorNotAvailable
        }
        func answer(_ tp: TopicPartition) -> Partition {
            let readable = permissions.allows(.read, topic: tp.topic)
            let committed = readable ? table[tp] : nil
            // v2+ carries a group error at the top; v1 per partition.
            let code: KafkaErrorCode = version < 2 && failure != .none ? failure : (readable ? .none : .topicAuthorizationFailed)
            return Partition(partitionIndex: Int32(tp.partition), committedOffset: committed?.offset.rawValue ?? -1,
                             committedLeaderEpoch: -1, metadata: committed?.metadata ?? "", errorCode: code.rawValue)
        }
        var topics: [Topic] = []
        if let requested = request.topics {
            topics = requested.map { t in Topic(name: t.name, partitions: t.partitionIndexes.map { answer(TopicPartition(t.name, Int($0))) }) }
        } else {
            let byTopic = Dictionary(grouping: table.keys.filter { visibleTopic($0.topic) != nil && permissions.allows(.read, topic: $0.topic) },
                                     by: \.topic)
            topics = byTopic.keys.sorted().map { name in Topic(name: name, partitions: byTopic[name]!.sorted().map(answer)) }
        }
        return OffsetFetchResponse(topics: topics, errorCode: version >= 2 ? failure.rawValue : 0)
    }

    /// The Kafka error code of a group operation's error. `invalidArgument` is what the
    /// operation's invalid arguments mean (a join's: the session timeout).
    static func groupErrorCode(for error: any Error, invalidArgument: KafkaErrorCode = .invalidRequest) -> KafkaErrorCode {
        guard let error = error as? LogError else {
            return error is CancellationError ? .coordinatorNotAvailable : .unknownServerError
        }
        switch error.code {
        case .unknownMember: return .unknownMemberId
        case .staleGeneration: return .illegalGeneration
        case .rebalanceInProgress: return .rebalanceInProgress
        case .inconsistentGroupProtocol: return .inconsistentGroupProtocol
        case .groupLimitReached: return .groupMaxSizeReached
        case .invalidGroupName: return .invalidGroupId
        case .invalidArgument: return invalidArgument
        case .closed: return .coordinatorNotAvailable
        default: return errorCode(for: error)
        }
    }
}
