import NIOHTTP1
extension EventLogClient {
    /// Commits `offsets` (each the next offset to consume) for `group`; durable when it
    /// returns. A member of the group passes its `memberID` and `generation`, and a commit
    /// from a generation that has passed is `409 stale_generation`.
    public func commit(_ offsets: [CommittedOffset], group: String, memberID: String? = nil, generation: Int? = nil) async throws {
        var body = "{\"offsets\": [" + offsets.map { o in
            var fields = ["\"topic\": " + jsonString(o.topic), "\"partition\": \(o.partition)", "\"offset\": \(o.offset)"]
            if let metadata = o.metadata { fields.append("\"metadata\": " + jsonString(metadata)) }
            return "{" + fields.joined(separator: ", ") + "}"
        }.joined(separator: ", ") + "]"
        if let memberID { body += ", \"member_id\": " + jsonString(memberID) }
        if let generation { body += ", \"generation\": \(generation)" }
        _ = try await send(request(.POST, Self.path("groups", group, "commits"), body: body + "}"))
    }

    /// The offsets `group` has committed; `404 group_not_found` when it has none.
    public func committedOffsets(group: String) async throws -> [CommittedOffset] {
        let answer = try await send(request(.GET, Self.path("groups", group, "commits")))
        guard let list = try Self.parse(answer.body, status: answer.status)[member: "offsets"]?.array else {
            throw EventLogClientError.invalidResponse("commits without \"offsets\"", status: answer.status)
        }
        return try list.map { o in
            guard let topic = o[member: "topic"]?.string, let partition = o[member: "partition"]?.int64, let offset = o[member: "offset"]?.int64 else {
                throw EventLogClientError.invalidResponse("a commit without topic, partition or offset", status: answer.status)
            }
            return CommittedOffset(topic: topic, partition: Int(partition), offset: offset, metadata: o[member: "metadata"]?.string)
        }
    }

    /// How far `group` is behind, per committed partition.
    public func lag(group: String) async throws -> [PartitionLag] {
        let answer = try await send(request(.GET, Self.path("groups", group, "lag")))
        guard let list = try Self.parse(answer.body, status: answer.status)[member: "partitions"]?.array else {
            throw EventLogClientError.invalidResponse("lag without \"partitions\"", status: answer.status)
        }
        return try list.map { p in
            guard let topic = p[member: "topic"]?.string, let partition = p[member: "partition"]?.int64,
                  let committed = p[member: "committed"]?.int64, let end = p[member: "end_offset"]?.int64,
                  let lag = p[member: "lag"]?.int64 else {
                throw EventLogClientError.invalidResponse("a lag entry without its numbers", status: answer.status)
            }
            return PartitionLag(topic: topic, partition: Int(partition), committed: committed, endOffset: end, lag: lag)
        }
    }
}

/// A consumer group as ``EventLogClient/group(named:)`` describes it.
public struct GroupInfo: Sendable, Hashable {
    public struct Member: Sendable, Hashable {
        public var id: String
        public var topics: [String]
        /// (topic, partition) pairs assigned in the current generation.
        public var assignment: [CommittedOffsetKey]
    }

    /// A topic and partition.
    public struct CommittedOffsetKey: Sendable, Hashable {
        public var topic: String
        public var partition: Int
    }

    public var name: String
    /// `empty`, `stable` or `rebalancing`.
    public var state: String
    public var generation: Int
    public var members: [Member]
    public var offsets: [CommittedOffset]
}

/// Where ``EventLogClient/resetGroup(_:topic:to:partitions:)`` moves a group.
public enum ResetTarget: Sendable, Hashable {
    case earliest
    case latest
    case offset(Int64)
    /// The first record at or after this time, in milliseconds since the epoch.
    case time(Int64)
    /// The first record at or after this time, as text the server parses: milliseconds since
    /// the epoch or ISO 8601 (`2026-12-01T09:00:00Z`); anything else is its `400`.
    case timeText(String)

    var json: String {
        switch self {
        case .earliest: "\"earliest\""
        case .latest: "\"latest\""
        case .offset(let o): String(o)
        case .time(let ms): "\"time:\(ms)\""
        case .timeText(let text): jsonString("time:" + text)
        }
    }
}

extension EventLogClient {
    /// The names of the groups the token may use, with their state.
    public func groups() async throws -> [(name: String, state: String, members: Int)] {
        let answer = try await send(request(.GET, Self.path("groups")))
        guard let list = try Self.parse(answer.body, status: answer.status)[member: "groups"]?.array else {
            throw EventLogClientError.invalidResponse("a group list without \"groups\"", status: answer.status)
        }
        return list.compactMap { g in
            guard let name = g[member: "name"]?.string else { return nil }
            return (name, g[member: "state"]?.string ?? "", Int(g[member: "members"]?.int64 ?? 0))
        }
    }

    /// A group's members, assignment and commits; `404 group_not_found` when it has none.
    public func group(named name: String) async throws -> GroupInfo {
        let answer = try await send(request(.GET, Self.path("groups", name)))
        let g = try Self.parse(answer.body, status: answer.status)
        let members = (g[member: "members"]?.array ?? []).map { m in
            GroupInfo.Member(id: m[member: "member_id"]?.string ?? "", topics: (m[member: "topics"]?.array ?? []).compactMap(\.string),
                             assignment: (m[member: "assignment"]?.array ?? []).compactMap { a in
                                 guard let t = a[member: "topic"]?.string, let p = a[member: "partition"]?.int64 else { return nil }
                                 return GroupInfo.CommittedOffsetKey(topic: t, partition: Int(p))
                             })
        }
        let offsets = (g[member: "offsets"]?.array ?? []).compactMap { o -> CommittedOffset? in
            guard let t = o[member: "topic"]?.string, let p = o[member: "partition"]?.int64, let off = o[member: "offset"]?.int64 else { return nil }
            return CommittedOffset(topic: t, partition: Int(p), offset: off, metadata: o[member: "metadata"]?.string)
        }
        return GroupInfo(name: g[member: "name"]?.string ?? name, state: g[member: "state"]?.string ?? "",
                         generation: Int(g[member: "generation"]?.int64 ?? 0), members: members, offsets: offsets)
    }

    /// Deletes a group without members and its commits; `409 group_not_empty` while it has members.
    public func deleteGroup(_ name: String) async throws {
        _ = try await send(request(.DELETE, Self.path("groups", name)))
    }

    /// Moves `group`'s position on `topic` (every partition, or those given) and commits it;
    /// returns the committed offsets.
    @discardableResult
    public func resetGroup(_ group: String, topic: String, to target: ResetTarget, partitions: [Int]? = nil) async throws -> [CommittedOffset] {
        var body = "{\"topic\": " + jsonString(topic) + ", \"to\": " + target.json
        if let partitions { body += ", \"partitions\": [" + partitions.map(String.init).joined(separator: ", ") + "]" }
        let answer = try await send(request(.POST, Self.path("groups", group, "reset"), body: body + "}"))
        return (try Self.parse(answer.body, status: answer.status)[member: "offsets"]?.array ?? []).compactMap { o in
            guard let t = o[member: "topic"]?.string, let p = o[member: "partition"]?.int64, let off = o[member: "offset"]?.int64 else { return nil }
            return CommittedOffset(topic: t, partition: Int(p), offset: off)
        }
    }
}
