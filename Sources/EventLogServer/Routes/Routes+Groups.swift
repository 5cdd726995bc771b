import EventLogJSON
import EventLog
import HTTPTypes
import Hummingbird
import HummingbirdCore

extension Routes {
    /// Consumer groups: `/v1/groups/{group}/commits`, `/lag`, `/members`, `/members/{member}/heartbeat`,
    /// `/members/{member}` and `/records` (see Docs/CONSUMER-GROUPS.md).
    func addGroupRoutes(to router: Router<Context>) {
        router.post("/v1/groups/:group/commits") { request, context in try await postCommits(request, context) }
        router.get("/v1/groups/:group/commits") { request, context in try await getCommits(request, context) }
        router.get("/v1/groups/:group/lag") { request, context in try await getLag(request, context) }
        router.post("/v1/groups/:group/members") { request, context in try await join(request, context) }
        router.post("/v1/groups/:group/members/:member/heartbeat") { request, context in
            let (group, member) = (try await groupName(request, context), try memberID(context))
            let membership = try await server.groups.coordinator().heartbeat(group, member: member)
            return json(Self.membershipJSON(membership))
        }
        router.delete("/v1/groups/:group/members/:member") { request, context in
            let (group, member) = (try await groupName(request, context), try memberID(context))
            try await server.groups.coordinator().leave(group, member: member)
            return Response(status: .noContent)
        }
        router.get("/v1/groups/:group/records") { request, context in try await groupRecords(request, context) }
        addGroupAdminRoutes(to: router)
    }

    // MARK: Parameters

    /// The `{group}` path parameter, percent-decoded and checked against the naming rule, once
    /// the request's token may use the group (else `403 forbidden`).
    func groupName(_ request: Request, _ context: Context) async throws -> String {
        guard let raw = context.parameters.get("group"), let name = percentDecoded(raw),
              (try? GroupCoordinator.validateGroupName(name)) != nil
        else {
            throw APIError(.invalidGroupName, "Group names are 1 to 249 characters of [A-Za-z0-9._-], not \".\" or \"..\".")
        }
        try await access(request).requireGroup(name)
        return name
    }

    private func memberID(_ context: Context) throws -> MemberID {
        guard let raw = context.parameters.get("member"), let id = percentDecoded(raw) else {
            throw APIError(.unknownMember, "The member id is not valid percent-encoded UTF-8.")
        }
        return MemberID(id)
    }

    private func parseObject(_ body: [UInt8]) throws -> JSONValue {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw APIError(.invalidJSON, "The body is not valid JSON: \(error).")
        }
        guard case .object = document else { throw APIError(.invalidJSON, "The body must be a JSON object.") }
        return document
    }

    // MARK: Commits and lag

    /// `POST /v1/groups/{group}/commits` `{"offsets": [{"topic", "partition", "offset", "metadata"?}], "member_id"?, "generation"?}`.
    private func postCommits(_ request: Request, _ context: Context) async throws -> Response {
        let group = try await groupName(request, context)
        let access = try await access(request)
        let document = try parseObject(Array(try await collectBody(request).readableBytesView))
        guard case .array(let items)? = document[member: "offsets"] else {
            throw APIError(.invalidArgument, "The body must have an \"offsets\" array.")
        }
        var offsets: [TopicPartition: CommittedOffset] = [:]
        for item in items {
            guard let topic = item[member: "topic"]?.stringValue else {
                throw APIError(.invalidArgument, "Each offset needs a \"topic\" string.")
            }
            try access.require(.read, topic: topic)
            guard let partition = item[member: "partition"]?.integer(in: ClientNumber.partitions) else {
                throw APIError(.invalidPartition, "Each offset needs a non-negative integer \"partition\".")
            }
            guard let offset = item[member: "offset"]?.integer(in: ClientNumber.offsets) else {
                throw APIError(.invalidOffset, "Each offset needs an \"offset\": a non-negative 64-bit integer (the next offset to read).")
            }
            var metadata: String?
            switch item[member: "metadata"] {
            case nil, .null?: break
            case .string(let text)?: metadata = text
            default: throw APIError(.invalidArgument, "\"metadata\" must be a string.")
            }
            offsets[TopicPartition(topic, Int(partition))] = CommittedOffset(Offset(offset), metadata: metadata)
        }
        for tp in offsets.keys { _ = try existingTopic(tp.topic) }
        // Range-checked whenever it is sent, also without a member.
        var generation: Int?
        switch document[member: "generation"] {
        case nil, .null?: break
        case let value?:
            guard let number = value.integer(in: 0...Int64.max) else {
                throw APIError(.invalidArgument, "\"generation\" must be a non-negative integer.")
            }
            generation = Int(number)
        }
        var member: GroupMemberGeneration?
        switch document[member: "member_id"] {
        case nil, .null?: break
        case .string(let id)?:
            // A member commits in a generation, which fences it once the group moved on.
            guard let generation else {
                throw APIError(.invalidArgument, "A commit with \"member_id\" needs the \"generation\" the member commits in.")
            }
            member = GroupMemberGeneration(memberID: MemberID(id), generation: generation)
        default: throw APIError(.invalidArgument, "\"member_id\" must be a string.")
        }
        try await server.groups.coordinator().commit(offsets, for: group, by: member)
        return Response(status: .noContent)
    }

    /// `GET /v1/groups/{group}/commits`: `{"offsets": [{"topic", "partition", "offset", "metadata"?}]}`
    /// (`metadata` only when the commit has some).
    private func getCommits(_ request: Request, _ context: Context) async throws -> Response {
        let group = try await groupName(request, context)
        let table = try await server.groups.coordinator().committedOffsets(for: group)
        var out = JSONWriter()
        out.objectWithArray("offsets") { out in
            for (tp, committed) in table.sorted(by: { $0.key < $1.key }) {
                out.beginObject()
                out.key("topic"); out.string(tp.topic)
                out.key("partition"); out.int(tp.partition)
                out.key("offset"); out.int(committed.offset.rawValue)
                if let metadata = committed.metadata { out.key("metadata"); out.string(metadata) }
                out.endObject()
            }
        }
        return json(out.bytes)
    }

    /// `GET /v1/groups/{group}/lag`: per committed partition, `committed`, `end_offset`, `lag`
    /// and `oldest_unconsumed_age_ms` (null when nothing is behind).
    private func getLag(_ request: Request, _ context: Context) async throws -> Response {
        let group = try await groupName(request, context)
        let lag = try await server.groups.coordinator().lag(for: group)
        var out = JSONWriter()
        out.objectWithArray("partitions") { out in
            for p in lag {
                out.beginObject()
                out.key("topic"); out.string(p.topicPartition.topic)
                out.key("partition"); out.int(p.topicPartition.partition)
                out.key("committed"); out.int(p.committed.rawValue)
                out.key("end_offset"); out.int(p.endOffset.rawValue)
                out.key("lag"); out.int(p.lag)
                out.key("oldest_unconsumed_age_ms")
                if let age = p.oldestUnconsumedAge { out.int(age.wholeMilliseconds) } else { out.null() }
                out.endObject()
            }
        }
        return json(out.bytes)
    }

    // MARK: Members

    /// `POST /v1/groups/{group}/members` `{"topics": [...], "session_timeout_ms": 10000, "strategy"?, "reset"?}`.
    private func join(_ request: Request, _ context: Context) async throws -> Response {
        let group = try await groupName(request, context)
        let access = try await access(request)
        let document = try parseObject(Array(try await collectBody(request).readableBytesView))
        guard case .array(let items)? = document[member: "topics"], !items.isEmpty else {
            throw APIError(.invalidArgument, "The body must have a non-empty \"topics\" array of topic names.")
        }
        var topics: [String] = []
        for item in items {
            guard let name = item.stringValue, (try? LogStore.validateTopicName(name)) != nil else {
                throw APIError(.invalidTopicName, "Topic names are 1 to 249 characters of [A-Za-z0-9._-], not \".\" or \"..\".")
            }
            try access.require(.read, topic: name)
            topics.append(name)
        }
        var timeoutMs: Int64 = 10_000
        if let value = document[member: "session_timeout_ms"] {
            guard let ms = value.integer(in: 10...3_600_000) else {
                throw APIError(.invalidArgument, "session_timeout_ms must be an integer from 10 to 3600000.")
            }
            timeoutMs = ms
        }
        var strategy: AssignmentStrategy?
        if let value = document[member: "strategy"] {
            guard let name = value.stringValue, let parsed = AssignmentStrategy(name: name) else {
                throw APIError(.invalidArgument, "strategy must be sticky, range or roundrobin.")
            }
            strategy = parsed
        }
        var reset = OffsetResetPolicy.earliest
        switch document[member: "reset"] {
        case nil, .string("earliest")?: break
        case .string("latest")?: reset = .latest
        default: throw APIError(.invalidReset, "reset must be earliest or latest.")
        }
        let membership = try await server.groups.coordinator().join(
            group, topics: topics, sessionTimeout: .milliseconds(timeoutMs), strategy: strategy, resetPolicy: reset)
        return json(Self.membershipJSON(membership))
    }

    /// `{"member_id", "generation", "assignment": [{"topic", "partition"}], "rebalancing"}`.
    private static func membershipJSON(_ membership: GroupMembership) -> [UInt8] {
        var out = JSONWriter()
        out.beginObject()
        out.key("member_id"); out.string(membership.memberID.rawValue)
        out.key("generation"); out.int(membership.generation)
        out.key("assignment"); out.topicPartitions(membership.assignment)
        out.key("rebalancing"); out.bool(membership.rebalancing)
        out.endObject()
        return out.bytes
    }

    // MARK: Group reads

    /// `GET /v1/groups/{group}/records?member_id=M&limit=100&wait_ms=0`.
    private func groupRecords(_ request: Request, _ context: Context) async throws -> Response {
        let group = try await groupName(request, context)
        let query = request.uri.queryParameters
        guard let rawMember = query["member_id"], let id = percentDecoded(rawMember) else {
            throw APIError(.unknownMember, "member_id is required: join the group first.")
        }
        guard let limit = Self.integerParameter(query["limit"], default: 100, in: 1...RecordJSON.maxRecordsPerRequest) else {
            throw APIError(.invalidLimit, "limit must be an integer from 1 to \(RecordJSON.maxRecordsPerRequest).")
        }
        guard let waitMs = Self.integerParameter(query["wait_ms"], default: 0, in: 0...300_000) else {
            throw APIError(.invalidWait, "wait_ms must be an integer from 0 to 300000.")
        }
        let coordinator = try await server.groups.coordinator()
        let member = MemberID(id)
        var fetched = try await coordinator.fetch(group, member: member, maxRecords: limit)
        // A read that skipped damaged data answers at once, so that the member learns the range.
        if fetched.records.isEmpty, fetched.damaged.isEmpty, waitMs > 0, !fetched.positions.isEmpty {
            let waitOn = fetched.positions.compactMap { p -> (partition: Partition, offset: Offset)? in
                guard let partition = try? store.partition(p.topicPartition) else { return nil }
                return (partition, p.nextOffset)
            }
            let woke = await server.lifecycle.unlessStopping {
                await Partition.waitForRecords(waitOn, timeout: .milliseconds(waitMs))
            }
            if woke == true { fetched = try await coordinator.fetch(group, member: member, maxRecords: limit) }
        }

        var out = JSONWriter(reservingCapacity: 128 * fetched.records.count + 64)
        out.beginObject()
        out.key("records")
        out.beginArray()
        for item in fetched.records {
            let record = item.record
            out.beginObject()
            out.key("topic"); out.string(item.topicPartition.topic)
            RecordJSON.writeMembers(record, partition: item.topicPartition.partition, to: &out)
            out.endObject()
        }
        out.endArray()
        out.key("positions")
        out.beginArray()
        for p in fetched.positions {
            out.beginObject()
            out.key("topic"); out.string(p.topicPartition.topic)
            out.key("partition"); out.int(p.topicPartition.partition)
            out.key("next_offset"); out.int(p.nextOffset.rawValue)
            out.endObject()
        }
        out.endArray()
        if !fetched.damaged.isEmpty {
            // Damaged stored data skipped, as fetch's `gap` says it (Docs/HTTP-API.md).
            out.key("gaps")
            out.beginArray()
            for d in fetched.damaged {
                out.beginObject()
                out.key("topic"); out.string(d.topicPartition.topic)
                out.key("partition"); out.int(d.topicPartition.partition)
                out.key("requested"); out.int(d.range.first.rawValue)
                out.key("resumed_from"); out.int(d.range.end.rawValue)
                out.key("reason"); out.string("damaged")
                out.endObject()
            }
            out.endArray()
        }
        out.endObject()
        return json(out.bytes)
    }

    // MARK: Metrics

    /// Sets `eventlog_consumer_lag{group, topic, partition}` (records behind the group's commit)
    /// for every group, when groups are in use (a scrape does not open the coordinator).
    func updateConsumerLagGauges() async {
        guard let coordinator = await server.groups.opened else { return }
        for group in await coordinator.groupNames() {
            guard let lag = try? await coordinator.lag(for: group) else { continue }
            for p in lag {
                server.metrics.registry.makeGauge(
                    descriptor: .init(namespace: "eventlog", metricName: "consumer_lag", unitName: "",
                                      helpText: "Records between a consumer group's committed position and the partition's end."),
                    labels: [("group", group), ("topic", p.topicPartition.topic), ("partition", String(p.topicPartition.partition))]
                ).set(p.lag)
            }
        }
    }

    // MARK: Event streams with ?group=

    /// For `?group=G` on an event stream (``streamGroup(_:query:)``): the group's committed
    /// position per partition of the topic, or `nil` without a group or when the group has no
    /// commit for the topic.
    func groupStreamPositions(_ group: String?, topic: Topic) async throws -> [Int: Offset]? {
        guard let group else { return nil }
        let coordinator = try await server.groups.coordinator()
        var positions: [Int: Offset] = [:]
        for index in topic.partitions.indices {
            if let committed = await coordinator.committedOffset(for: group, TopicPartition(topic.name, index)) {
                positions[index] = committed.offset
            }
        }
        return positions.isEmpty ? nil : positions
    }

    /// The committer of a stream with `?group=G` that starts at `position`, or `nil` without one.
    func groupCommitsForStream(_ group: String?, topic: Topic, from position: TopicPosition) async throws -> StreamGroupCommits? {
        guard let group else { return nil }
        return StreamGroupCommits(
            coordinator: try await server.groups.coordinator(), group: group, topic: topic.name,
            start: position, logger: server.logger)
    }

    /// `?group=G` of an event stream, checked: a valid name the request may use; `nil` without.
    ///
    /// - Throws: `400 invalid_group_name`; the access check's error.
    func streamGroup(_ request: Request, query: FlatDictionary<Substring, Substring>) async throws -> String? {
        guard let raw = query["group"] else { return nil }
        let name = String(raw)
        guard (try? GroupCoordinator.validateGroupName(name)) != nil else {
            throw APIError(.invalidGroupName, "Group names are 1 to 249 characters of [A-Za-z0-9._-], not \".\" or \"..\".")
        }
        try await access(request).requireGroup(name)
        return name
    }
}

extension JSONWriter {
    /// `[{"topic", "partition"}, ...]`.
    mutating func topicPartitions(_ list: [TopicPartition]) {
        beginArray()
        for tp in list {
            beginObject()
            key("topic"); string(tp.topic)
            key("partition"); int(tp.partition)
            endObject()
        }
        endArray()
    }
}
