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
