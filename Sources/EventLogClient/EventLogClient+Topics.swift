import NIOHTTP1
extension EventLogClient {
    /// Creates topic `name` (`PUT /v1/topics/{name}`), or confirms it when it exists with
    /// every given setting; another existing topic of that name is `409 topic_exists`.
    @discardableResult
    public func createTopic(_ name: String, settings: TopicSettings = TopicSettings()) async throws -> TopicInfo {
        let answer = try await send(request(.PUT, Self.path("topics", name), body: settings.json))
        return try Self.topic(try Self.parse(answer.body, status: answer.status), status: answer.status)
    }

    /// Changes topic `name`'s settings (`PATCH /v1/topics/{name}/config`): those given change, the
    /// others keep their values. Retention and cleanup policy apply from the server's next
    /// cleaner pass, durability from the next append.
    ///
    /// - Returns: the topic with its new settings.
    /// - Throws: ``EventLogClientError`` with the server's code: `topic_not_found`,
    ///   `invalid_config` (a bad value), `fixed_setting` (another partition count, compression
    ///   or segment size: those are fixed at creation), `forbidden` (an internal topic, or a
    ///   token without `manage`). A refused change changes nothing.
    @discardableResult
    public func alterTopic(_ name: String, settings: TopicSettings) async throws -> TopicInfo {
        let answer = try await send(request(.PATCH, Self.path("topics", name, "config"), body: settings.json))
        return try Self.topic(try Self.parse(answer.body, status: answer.status), status: answer.status)
    }

    /// Topic `name`, or `nil` when it does not exist.
    public func topic(named name: String) async throws -> TopicInfo? {
        do {
            let answer = try await send(request(.GET, Self.path("topics", name)))
            return try Self.topic(try Self.parse(answer.body, status: answer.status), status: answer.status)
        } catch let error as EventLogClientError where error.code == .topicNotFound {
            return nil
        }
    }

    /// Every topic the token may see.
    public func topics() async throws -> [TopicInfo] {
        let answer = try await send(request(.GET, Self.path("topics")))
        guard let list = try Self.parse(answer.body, status: answer.status)[member: "topics"]?.array else {
            throw EventLogClientError.invalidResponse("a topic list without \"topics\"", status: answer.status)
        }
        return try list.map { try Self.topic($0, status: answer.status) }
    }

    /// Deletes topic `name` and its records; `404 topic_not_found` when there is none.
    public func deleteTopic(_ name: String) async throws {
        _ = try await send(request(.DELETE, Self.path("topics", name)))
    }

    static func topic(_ json: RawJSON, status: Int) throws -> TopicInfo {
        guard let name = json[member: "name"]?.string, let partitions = json[member: "partitions"]?.array else {
            throw EventLogClientError.invalidResponse("a topic without name or partitions", status: status)
        }
        var config: [String: String] = [:]
        if case .object(let members)? = json[member: "config"]?.kind {
            for member in members { config[member.name] = member.value.string ?? String(decoding: member.value.raw, as: UTF8.self) }
        }
        return TopicInfo(name: name, partitions: try partitions.map { p in
            guard let partition = p[member: "partition"]?.int64, let start = p[member: "start_offset"]?.int64,
                  let end = p[member: "end_offset"]?.int64 else {
                throw EventLogClientError.invalidResponse("a partition without its offsets", status: status)
            }
            return TopicInfo.PartitionInfo(partition: Int(partition), startOffset: start, endOffset: end,
                                           sizeBytes: p[member: "size_bytes"]?.int64 ?? 0)
        }, config: config)
    }
}
