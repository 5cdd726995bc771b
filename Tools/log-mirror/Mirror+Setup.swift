import EventLog
import KafkaClient
import KafkaProtocol

extension Mirror {
    /// Describes the topics on both sides (creating missing ones on the target), decides each
    /// topic's partitioning, and finds where to resume: the group's committed offsets, else
    /// `--start`; then counts the records the target holds past the last commit (duplicates).
    func setUp() throws {
        let sourceTopics = try source.refreshMetadata(topics: settings.topics)
        var names: [String]
        if let wanted = settings.topics {
            for name in wanted where sourceTopics[name] == nil {
                throw MirrorError("the topic \(name) does not exist on the source (\(settings.source.map(\.description).joined(separator: ","))).")
            }
            names = wanted
        } else {
            names = sourceTopics.keys.filter { !$0.hasPrefix("__") }.sorted()
            guard !names.isEmpty else { throw MirrorError("the source has no topics to mirror.") }
        }
        names = Array(Set(names)).sorted()

        var targetTopics = try target.refreshMetadata(topics: names)
        let missing = names.filter { targetTopics[$0] == nil }
        if !missing.isEmpty {
            try createTargetTopics(missing, sourceTopics: sourceTopics)
            targetTopics = try target.refreshMetadata(topics: names)
            for name in missing where targetTopics[name] == nil {
                throw KafkaClientError(.brokerError, "the target does not describe the topic \(name) yet.", kafkaErrorCode: .unknownTopicOrPartition)
            }
        }

        for name in names {
            let s = sourceTopics[name]!.partitionCount
            let t = targetTopics[name]!.partitionCount
            let bySource: Bool
            switch settings.partitioning {
            case .source:
                guard s == t else {
                    throw MirrorError("--partitioning source needs as many partitions on the target as on the source: \(name) has \(s) on the source and \(t) on the target.")
                }
                bySource = true
            case .key: bySource = false
            case .auto: bySource = s == t
            }
            routes[name] = Route(sourcePartitions: s, targetPartitions: t, bySourcePartition: bySource)
            status.note("mirroring \(name): \(s) partition\(s == 1 ? "" : "s") to \(t), \(bySource ? "batches kept whole, by source partition" : "records by key (murmur2)").")
        }
        try resume(names)
    }

    /// Creates `names` on the target: CreateTopics with the source's partition count (or
    /// `--create-partitions`) where the target offers it (Kafka), else a Metadata request that
    /// lets the target create them with its defaults (logd).
    private func createTargetTopics(_ names: [String], sourceTopics: [String: KafkaCluster.TopicLayout]) throws {
        let connection = try target.anyConnection()
        if connection.supports(.createTopics) {
            let request = CreateTopicsRequest(topics: names.map { name in
                .init(name: name, numPartitions: Int32(settings.createPartitions ?? sourceTopics[name]!.partitionCount),
                      replicationFactor: settings.replicationFactor)
            }, timeoutMs: Int32(clamping: settings.timeoutMs))
            let response: CreateTopicsResponse = try connection.send(request)
            for topic in response.topics where topic.errorCode != 0 && topic.errorCode != KafkaErrorCode.topicAlreadyExists.rawValue {
                let code = KafkaErrorCode(rawValue: topic.errorCode)
                if KafkaClientError.isRetriable(code) {
                    throw KafkaClientError(.brokerError, "the target could not create \(topic.name) yet (Kafka error \(code)).", kafkaErrorCode: code)
                }
                throw MirrorError("the target refused to create the topic \(topic.name) (Kafka error \(code)\(topic.errorMessage.map { ": \($0)" } ?? "")).")
            }
            for name in names {
                status.note("created \(name) on the target with \(settings.createPartitions ?? sourceTopics[name]!.partitionCount) partitions.")
            }
        } else {
            let created = try target.refreshMetadata(topics: names, autoCreate: true)
            for name in names {
                if let layout = created[name] {
                    status.note("the target created \(name) with its default partition count, \(layout.partitionCount) (it has no CreateTopics).")
                }
            }
        }
    }

    /// Sets every partition's position: the group's committed offset, else `--start`; records
    /// the target's end offsets, and counts (and reports) the records written after the last
    /// commit, which are mirrored again.
    private func resume(_ names: [String]) throws {
        let partitions = names.flatMap { name in (0..<routes[name]!.sourcePartitions).map { TopicPartition(name, $0) } }
        let coordinator = try source.coordinator(for: settings.group)
        let fetched: OffsetFetchResponse = try coordinator.send(OffsetFetchRequest(groupId: settings.group, topics: names.map { name in
            .init(name: name, partitionIndexes: (0..<Int32(routes[name]!.sourcePartitions)).map { $0 })
        }))
        if fetched.errorCode != 0 { try groupError(KafkaErrorCode(rawValue: fetched.errorCode), doing: "reading its committed offsets") }
        var metadata: [TopicPartition: CommitMetadata] = [:]
        for topic in fetched.topics {
            for p in topic.partitions {
                let tp = TopicPartition(topic.name, Int(p.partitionIndex))
                if p.errorCode != 0 { try groupError(KafkaErrorCode(rawValue: p.errorCode), doing: "reading the committed offset of \(tp)") }
                if p.committedOffset >= 0 {
                    committed[tp] = p.committedOffset
                    positions[tp] = p.committedOffset
                    metadata[tp] = CommitMetadata(parsing: p.metadata)
                }
            }
        }
        let fresh = partitions.filter { positions[$0] == nil }
        if !fresh.isEmpty {
            let starts = try listOffsets(on: source, fresh, at: settings.start == .earliest ? -2 : -1)
            for tp in fresh { positions[tp] = starts[tp] }
        }
        let resumed = partitions.count - fresh.count
        status.note("resuming group \(settings.group): \(resumed) partition\(resumed == 1 ? "" : "s") from committed offsets, \(fresh.count) from the \(settings.start.rawValue) offset.")

        // The target's ends now, against those stored with the last commits.
        let targetPartitions = names.flatMap { name in (0..<routes[name]!.targetPartitions).map { TopicPartition(name, $0) } }
        let ends = try listOffsets(on: target, targetPartitions, at: -1)
        for (tp, end) in ends { producer.noteEnd(end, of: tp) }
        for name in names {
            var lastCommitted: [Int: Int64] = [:]
            for (tp, stored) in metadata where tp.topic == name {
                for (partition, end) in stored.targetEnds { lastCommitted[partition] = max(lastCommitted[partition] ?? 0, end) }
            }
            var written: [String] = []
            var count: Int64 = 0
            for (partition, end) in lastCommitted.sorted(by: { $0.key < $1.key }) {
                let now = ends[TopicPartition(name, partition)] ?? end
                if now > end {
                    count += now - end
                    written.append("\(now - end) in partition \(partition)")
                }
            }
            if count > 0 {
                duplicates += count
                status.note("the target holds \(count) record\(count == 1 ? "" : "s") of \(name) written after the last commit (\(written.joined(separator: ", "))): they are mirrored again, as duplicates.")
            }
            if lastCommitted.isEmpty {
                // No commit of this mirror: records already there are someone else's (or an
                // earlier mirror's under another group); they stay, and offsets will differ.
                let held = (0..<routes[name]!.targetPartitions).reduce(Int64(0)) { $0 + (ends[TopicPartition(name, $1)] ?? 0) }
                if held > 0 {
                    status.note("the target's \(name) already holds records (end offsets summing to \(held)); mirrored records follow them, so offsets differ from the source's.")
                }
            }
        }
    }

    /// The offsets at `timestamp` (-2 earliest, -1 latest) of `partitions` on `cluster`, asked
    /// of each partition's leader.
    func listOffsets(on cluster: KafkaCluster, _ partitions: [TopicPartition], at timestamp: Int64) throws -> [TopicPartition: Int64] {
        var byLeader: [Int32: [TopicPartition]] = [:]
        for tp in partitions { byLeader[cluster.leader(topic: tp.topic, partition: tp.partition), default: []].append(tp) }
        var out: [TopicPartition: Int64] = [:]
        for (leader, tps) in byLeader {
            guard leader >= 0 else { throw KafkaClientError(.connectionFailed, "no leader is known for \(tps[0]) yet.") }
            let connection = try cluster.connection(toNode: leader)
            let grouped = Dictionary(grouping: tps, by: \.topic)
            let request = ListOffsetsRequest(replicaId: -1, isolationLevel: 0, topics: grouped.keys.sorted().map { name in
                .init(name: name, partitions: grouped[name]!.map { .init(partitionIndex: Int32($0.partition), timestamp: timestamp) })
            })
            let response: ListOffsetsResponse = try connection.send(request)
            for topic in response.topics {
                for p in topic.partitions {
                    let tp = TopicPartition(topic.name, Int(p.partitionIndex))
                    let code = KafkaErrorCode(rawValue: p.errorCode)
                    guard code == .none else {
                        if KafkaClientError.isRetriable(code) {
                            throw KafkaClientError(.brokerError, "\(connection.address) answered ListOffsets for \(tp) with Kafka error \(code).", kafkaErrorCode: code)
                        }
                        throw MirrorError("\(connection.address) refused ListOffsets for \(tp) (Kafka error \(code)).")
                    }
                    out[tp] = p.offset
                }
            }
        }
        return out
    }

    /// Throws the error for a group error code: retriable for a coordinator that moves or
    /// loads, a ``MirrorError`` otherwise.
    func groupError(_ code: KafkaErrorCode, doing what: String) throws {
        if KafkaClientError.isRetriable(code) {
            source.forgetCoordinator(of: settings.group)
            throw KafkaClientError(.brokerError, "the source's coordinator of group \(settings.group) answered Kafka error \(code) while \(what).", kafkaErrorCode: code)
        }
        switch code {
        case .unknownMemberId, .illegalGeneration, .rebalanceInProgress:
            throw MirrorError("the group \(settings.group) has active consumers on the source; give log-mirror a group of its own (--group).")
        case .groupAuthorizationFailed, .topicAuthorizationFailed:
            throw MirrorError("the source refuses the group \(settings.group) to these credentials (Kafka error \(code)) while \(what).")
        default:
            throw MirrorError("the source's coordinator of group \(settings.group) answered Kafka error \(code) while \(what).")
        }
    }
}
