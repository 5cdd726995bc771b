import EventLog

/// A record of a produce request, before it has a partition.
struct ProduceRecord: Sendable {
    var record: Record
    /// The partition asked for, if any.
    var partition: Int?
}

/// Records to and from their JSON form.
enum RecordJSON {
    /// At most this many records per produce request.
    static let maxRecordsPerRequest = 10_000

    /// Parses `{"records": [{"key", "value" | "value_b64", "headers", "partition", "timestamp"}, ...]}`.
    static func parseProduceBody(_ body: [UInt8]) throws -> [ProduceRecord] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw APIError(.invalidJSON, "The body is not valid JSON: \(error).")
        }
        guard case .array(let elements)? = document[member: "records"] else {
            throw APIError(.invalidRecord, "The body must be an object with a \"records\" array.")
        }
        guard (1...maxRecordsPerRequest).contains(elements.count) else {
            throw APIError(.invalidRecord, "A request holds 1 to \(maxRecordsPerRequest) records, not \(elements.count).")
        }
        return try elements.enumerated().map { index, element in try parseRecord(element, index: index) }
    }

    private static func parseRecord(_ element: JSONValue, index: Int) throws -> ProduceRecord {
        func invalid(_ reason: String) -> APIError { APIError(.invalidRecord, "Record \(index): \(reason)") }
        guard case .object(let members) = element else { throw invalid("a record must be a JSON object.") }
        var key: RecordBytes?
        var value: RecordBytes?
        var sawValue = false
        var headers = RecordHeaders()
        var partition: Int?
        var timestamp: Int64?
        for member in members {
            switch member.name {
            case "key":
                switch member.value {
                case .null: key = nil
                case .string(let string): key = RecordBytes(string)
                default: throw invalid("key must be a string or null.")
                }
            case "value":
                guard !sawValue else { throw invalid("give value or value_b64, not both.") }
                sawValue = true
                if member.value != .null { value = RecordBytes(member.value.compactBytes) }
            case "value_b64":
                guard !sawValue else { throw invalid("give value or value_b64, not both.") }
                sawValue = true
                switch member.value {
                case .null: break
                case .string(let text):
                    guard let bytes = Base64.decode(text) else { throw invalid("value_b64 is not valid base64.") }
                    value = RecordBytes(bytes)
                default: throw invalid("value_b64 must be a base64 string.")
                }
            case "headers":
                switch member.value {
                case .null: break
                case .object(let pairs):
                    for pair in pairs {
                        guard case .string(let text) = pair.value else { throw invalid("header \(pair.name) must be a string.") }
                        headers.append(name: pair.name, value: text)
                    }
                default: throw invalid("headers must be an object of strings.")
                }
            case "partition":
                if member.value == .null { break }
                guard let number = member.value.integer(in: ClientNumber.partitions) else {
                    throw invalid("partition must be a non-negative integer.")
                }
                partition = Int(number)
            case "timestamp":
                if member.value == .null { break }
                guard let number = member.value.integer(in: ClientNumber.timestamps) else {
                    throw invalid("timestamp must be milliseconds since the epoch, an integer from 0 to \(ClientNumber.timestamps.upperBound) (the end of the year 9999).")
                }
                timestamp = number
            default:
                throw invalid("unknown field \(member.name).")
            }
        }
        return ProduceRecord(record: Record(key: key, value: value, headers: headers, timestamp: timestamp), partition: partition)
    }

    /// Writes a stored record: `{"partition", "offset", "timestamp", "key", "value" | "value_b64", "headers"}`.
    ///
    /// A value whose bytes are valid JSON is written as `"value"` verbatim; any other as
    /// `"value_b64"`; a tombstone as `"value": null`.
    static func write(_ record: StoredRecord, partition: Int, to json: inout JSONWriter) {
        json.beginObject()
        writeMembers(record, partition: partition, to: &json)
        json.endObject()
    }

    /// Writes a stored record's members into an object the caller opened (and closes), so
    /// group fetches and WebSocket messages can add their own members around them.
    static func writeMembers(_ record: StoredRecord, partition: Int, to json: inout JSONWriter) {
        json.key("partition"); json.int(partition)
        json.key("offset"); json.int(record.offset.rawValue)
        json.key("timestamp"); json.int(record.timestamp)
        json.key("key"); json.optionalString(record.key.map { String(decoding: $0, as: UTF8.self) })
        writeValue(record.value, to: &json)
        json.key("headers")
        json.beginObject()
        for header in record.headers {
            json.key(header.name)
            json.string(String(decoding: header.value, as: UTF8.self))
        }
        json.endObject()
    }

    /// Writes the `"value"` or `"value_b64"` member of a record, from the bytes where they are
    /// (a read's buffer): checked and copied once, into the answer.
    static func writeValue(_ value: RecordBytes?, to json: inout JSONWriter) {
        guard let value else {
            json.key("value"); json.null()
            return
        }
        value.withUnsafeBytes { raw in
            if JSONParser.isValid(raw) {
                json.key("value"); json.raw(raw)
            } else {
                json.key("value_b64"); json.base64(raw)
            }
        }
    }
}
