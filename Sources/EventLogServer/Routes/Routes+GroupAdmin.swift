import EventLogJSON
import EventLog
import HTTPTypes
import Hummingbird

extension Routes {
    /// Groups as an operator sees them: `GET /v1/groups`, `GET /v1/groups/{group}`,
    /// `DELETE /v1/groups/{group}` and `POST /v1/groups/{group}/reset` (Docs/CONSUMER-GROUPS.md).
    func addGroupAdminRoutes(to router: Router<Context>) {
        router.get("/v1/groups") { request, _ -> Response in
            let access = try await access(request)
            let coordinator = try await server.groups.coordinator()
            let names = await coordinator.groupNames().filter { (try? access.requireGroup($0)) != nil }
            var groups: [GroupDescription] = []
            for name in names {
                if let group = try? await coordinator.describe(name) { groups.append(group) }
            }
            var out = JSONWriter()
            out.objectWithArray("groups") { out in
                for group in groups {
                    let name = group.name
                    out.beginObject()
                    out.key("name"); out.string(name)
                    out.key("state"); out.string(group.state.rawValue)
                    out.key("members"); out.int(group.members.count)
                    out.key("partitions_committed"); out.int(group.commits.count)
                    out.endObject()
                }
            }
            return json(out.bytes)
        }
        router.get("/v1/groups/:group") { request, context -> Response in
            let group = try await groupName(request, context)
            let description = try await server.groups.coordinator().describe(group)
            return json(Self.groupJSON(description))
        }
        router.delete("/v1/groups/:group") { request, context -> Response in
            let group = try await groupName(request, context)
            try await server.groups.coordinator().deleteGroup(group)
            return Response(status: .noContent)
        }
        router.post("/v1/groups/:group/reset") { request, context -> Response in try await resetGroup(request, context) }
    }

    /// `{"name", "state", "generation", "strategy", "protocol_type", "protocol", "members":
    /// [{"member_id", "topics", "assignment": [{"topic", "partition"}], "session_timeout_ms",
    /// "client_id"?, "client_host"?}], "offsets": [...]}`.
    static func groupJSON(_ group: GroupDescription) -> [UInt8] {
        var out = JSONWriter()
        out.beginObject()
        out.key("name"); out.string(group.name)
        out.key("state"); out.string(group.state.rawValue)
        out.key("generation"); out.int(group.generation)
        out.key("strategy")
        if let strategy = group.strategy { out.string(strategy.description) } else { out.null() }
        out.key("protocol_type")
        if let type = group.protocolType { out.string(type) } else { out.null() }
        out.key("protocol")
        if let name = group.protocolName { out.string(name) } else { out.null() }
        out.key("members")
        out.beginArray()
        for member in group.members {
            out.beginObject()
            out.key("member_id"); out.string(member.id.rawValue)
            out.key("topics")
            out.beginArray()
            for topic in member.topics { out.string(topic) }
            out.endArray()
            out.key("assignment"); out.topicPartitions(member.assignment)
            let timeout = member.sessionTimeout.components
            out.key("session_timeout_ms"); out.int(timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000)
            if let client = member.clientID { out.key("client_id"); out.string(client) }
            if let host = member.clientHost { out.key("client_host"); out.string(host) }
            out.endObject()
        }
        out.endArray()
        out.key("offsets")
        out.beginArray()
        for (tp, committed) in group.commits.sorted(by: { $0.key < $1.key }) {
            out.beginObject()
            out.key("topic"); out.string(tp.topic)
            out.key("partition"); out.int(tp.partition)
            out.key("offset"); out.int(committed.offset.rawValue)
            if let metadata = committed.metadata { out.key("metadata"); out.string(metadata) }
            out.endObject()
        }
        out.endArray()
        out.endObject()
        return out.bytes
    }

    /// `POST /v1/groups/{group}/reset` `{"topic", "partitions"?: [n, ...], "to": "earliest" |
    /// "latest" | <offset> | "time:<ms since the epoch or ISO 8601>"}`: commits the new position
    /// of every (or each given) partition of the topic; answers `{"offsets": [...]}`.
    private func resetGroup(_ request: Request, _ context: Context) async throws -> Response {
        let group = try await groupName(request, context)
        let body = try await collectBody(request)
        let document: JSONValue
        do {
            document = try body.withUnsafeReadableBytes { try JSONParser.parse($0) }  // in place
        } catch {
            throw APIError(.invalidJSON, "The body is not valid JSON: \(error).")
        }
        guard let topicName = document[member: "topic"]?.stringValue else {
            throw APIError(.invalidArgument, "The body needs a \"topic\" string.")
        }
        try await access(request).require(.read, topic: topicName)
        let topic = try existingTopic(topicName)
        let position: StartPosition
        switch document[member: "to"] {
        case .string("earliest")?: position = .earliest
        case .string("latest")?: position = .latest
        case .string(let text)? where text.hasPrefix("time:"):
            guard let ms = Self.parseTime(String(text.dropFirst(5))) else {
                throw APIError(.invalidArgument, "\"to\": time:<milliseconds since the epoch, or ISO 8601 such as 2026-12-01T10:00:00Z>, not \(text).")
            }
            position = .timestamp(ms)
        case .number?:
            guard let offset = document[member: "to"]?.integer(in: ClientNumber.offsets) else {
                throw APIError(.invalidOffset, "\"to\" as a number is an offset: a non-negative 64-bit integer.")
            }
            position = .offset(Offset(offset))
        default:
            throw APIError(.invalidArgument, "\"to\" is earliest, latest, an offset or time:<ms or ISO 8601>.")
        }
        var partitions = Array(0..<topic.partitions.count)
        if case .array(let items)? = document[member: "partitions"] {
            partitions = try items.map { item in
                guard let n = item.integer(in: ClientNumber.partitions), n < topic.partitions.count else {
                    throw APIError(.partitionNotFound, "Topic \(topicName) has partitions 0 to \(topic.partitions.count - 1).")
                }
                return Int(n)
            }
        }
        let coordinator = try await server.groups.coordinator()
        var reset: [(partition: Int, offset: Offset)] = []
        for partition in partitions {
            reset.append((partition, try await coordinator.reset(TopicPartition(topicName, partition), for: group, to: position)))
        }
        var out = JSONWriter()
        out.objectWithArray("offsets") { out in
            for (partition, offset) in reset {
                out.beginObject()
                out.key("topic"); out.string(topicName)
                out.key("partition"); out.int(partition)
                out.key("offset"); out.int(offset.rawValue)
                out.endObject()
            }
        }
        return json(out.bytes)
    }

    /// Milliseconds since the epoch from `1767225600000` or an ISO 8601 date-time
    /// (`2026-01-01T00:00:00Z`, `2026-01-01T01:00:00.250+01:00`); `nil` otherwise.
    static func parseTime(_ text: String) -> Int64? {
        if let ms = ClientNumber.parse(text, in: ClientNumber.timestamps) { return ms }
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var n: Int64 = 0
            for c in b[from..<from + count] {
                guard (0x30...0x39).contains(c) else { return nil }
                n = n * 10 + Int64(c - 0x30)
            }
            return n
        }
        guard b.count >= 20, let year = number(0, 4), b[4] == 0x2D, let month = number(5, 2), b[7] == 0x2D,
              let day = number(8, 2), b[10] == 0x54 || b[10] == 0x20, let hour = number(11, 2), b[13] == 0x3A,
              let minute = number(14, 2), b[16] == 0x3A, let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count, b[i] == 0x2E {  // fraction: milliseconds, further digits ignored
            i += 1
            var digits = 0
            while i < b.count, (0x30...0x39).contains(b[i]) {
                if digits < 3 { millis = millis * 10 + Int64(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            // `.5` is 500 ms. (Never a range `digits..<3` when there are more digits: a range
            // whose bounds are reversed traps, and one request could stop the server.)
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        var offsetMinutes: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == 0x5A, i + 1 == b.count {
            offsetMinutes = 0
        } else if b[i] == 0x2B || b[i] == 0x2D, i + 6 == b.count, let h = number(i + 1, 2), b[i + 3] == 0x3A, let m = number(i + 4, 2), h < 24, m < 60 {
            offsetMinutes = (h * 60 + m) * (b[i] == 0x2B ? 1 : -1)
        } else {
            return nil
        }
        // Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetMinutes * 60
        guard seconds >= 0 else { return nil }
        return seconds * 1_000 + millis
    }
}
