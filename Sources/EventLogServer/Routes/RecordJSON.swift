import EventLogJSON
import EventLog
import NIOCore

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

    /// Parses `{"records": [{"key" | "key_b64", "value" | "value_b64", "headers", "headers_b64",
    /// "partition", "timestamp"}, ...]}` from the request's buffer.
    ///
    /// Keys, values and header values point into `body` where its bytes are theirs (a string
    /// without escapes, a JSON value already compact): nothing is copied until the append
    /// encodes its batch. Others are made once: a string's decoded bytes, a value's compact
    /// text, base64's decoded bytes.
    static func parseProduceBody(_ body: ByteBuffer) throws -> [ProduceRecord] {
        try body.withUnsafeReadableBytesWithStorageManagement { raw, storage in
            try parseProduceBody(raw, owner: storage.takeUnretainedValue())
        }
    }

    /// Parses a produce body in `raw`, whose bytes stay valid and unchanged while `owner` lives.
    static func parseProduceBody(_ raw: UnsafeRawBufferPointer, owner: AnyObject) throws -> [ProduceRecord] {
        // The grammar first, as a whole: a body that is not JSON is `invalid_json`, whatever else.
        var check = JSONParser(raw)
        do {
            check.skipWhitespace()
            _ = try check.skipValue(depth: 0)
            try check.expectEnd()
        } catch {
            throw APIError(.invalidJSON, "The body is not valid JSON: \(error).")
        }
        var parser = JSONParser(raw)
        let reader = BodyReader(raw: raw, owner: owner)
        var records: [ProduceRecord]?
        do {
            parser.skipWhitespace()
            if parser.consume(UInt8(ascii: "{")), !parser.consume(UInt8(ascii: "}")) {
                repeat {
                    parser.skipWhitespace()
                    let name = try parser.parseString()
                    try parser.expect(UInt8(ascii: ":"), "expected ':'")
                    parser.skipWhitespace()
                    if name == "records", parser.peek == UInt8(ascii: "[") {
                        records = try parseRecords(&parser, reader)  // the last one, as for any member
                    } else {
                        if name == "records" { records = nil }
                        _ = try parser.skipValue(depth: 1)
                    }
                } while parser.consume(UInt8(ascii: ","))
            }
        } catch let failure as JSONParser.Failure {
            throw APIError(.invalidJSON, "The body is not valid JSON: \(failure).")
        }
        guard let records else {
            throw APIError(.invalidRecord, "The body must be an object with a \"records\" array.")
        }
        guard (1...maxRecordsPerRequest).contains(records.count) else {
            throw APIError(.invalidRecord, "A request holds 1 to \(maxRecordsPerRequest) records, not \(records.count).")
        }
        return records
    }

    /// The bytes of a produce body, which records may point into.
    private struct BodyReader {
        let raw: UnsafeRawBufferPointer
        let owner: AnyObject

        /// Bytes `range` of the body, in place.
        func bytes(_ range: Range<Int>) -> RecordBytes {
            RecordBytes(unsafeBytes: UnsafeRawBufferPointer(rebasing: raw[range]), owner: owner)
        }

        /// A string's bytes: in place, or decoded (escapes).
        func bytes(_ string: JSONParser.StringBytes) -> RecordBytes {
            switch string {
            case .inPlace(let range): bytes(range)
            case .decoded(let decoded): RecordBytes(decoded)
            }
        }

        /// A base64 string's decoded bytes; `nil` when it is not base64.
        func base64(_ string: JSONParser.StringBytes) -> [UInt8]? {
            switch string {
            case .inPlace(let range): Base64.decode(UnsafeRawBufferPointer(rebasing: raw[range]))
            case .decoded(let decoded): decoded.withUnsafeBytes { Base64.decode($0) }
            }
        }
    }

    /// The records array at the parser's position (grammar already checked).
    private static func parseRecords(_ parser: inout JSONParser, _ reader: BodyReader) throws -> [ProduceRecord] {
        try parser.expect(UInt8(ascii: "["), "expected '['")
        var records: [ProduceRecord] = []
        if parser.consume(UInt8(ascii: "]")) { return records }
        repeat {
            guard records.count < maxRecordsPerRequest else {
                throw APIError(.invalidRecord, "A request holds 1 to \(maxRecordsPerRequest) records, not more.")
            }
            parser.skipWhitespace()
            records.append(try parseRecord(&parser, reader, index: records.count))
        } while parser.consume(UInt8(ascii: ","))
        try parser.expect(UInt8(ascii: "]"), "expected ']'")
        return records
    }

    private static func parseRecord(_ parser: inout JSONParser, _ reader: BodyReader, index: Int) throws -> ProduceRecord {
        func invalid(_ reason: String) -> APIError { APIError(.invalidRecord, "Record \(index): \(reason)") }
        guard parser.consume(UInt8(ascii: "{")) else { throw invalid("a record must be a JSON object.") }
        var key: RecordBytes?
        var sawKey = false
        var value: RecordBytes?
        var sawValue = false
        var headers = RecordHeaders()
        var partition: Int?
        var timestamp: Int64?
        if parser.consume(UInt8(ascii: "}")) {
            return ProduceRecord(record: Record(value: nil), partition: nil)
        }
        repeat {
            parser.skipWhitespace()
            let name = try parser.parseString()
            try parser.expect(UInt8(ascii: ":"), "expected ':'")
            parser.skipWhitespace()
            let isNull = parser.peek == UInt8(ascii: "n")
            switch name {
            case "key", "key_b64":
                guard !sawKey else { throw invalid("give key or key_b64, not both.") }
                sawKey = true
                if isNull { _ = try parser.skipValue(depth: 2); break }
                guard parser.peek == UInt8(ascii: "\"") else {
                    throw invalid(name == "key" ? "key must be a string or null." : "key_b64 must be a base64 string.")
                }
                let text = try parser.stringBytes()
                if name == "key" {
                    key = reader.bytes(text)
                } else {
                    guard let bytes = reader.base64(text) else { throw invalid("key_b64 is not valid base64.") }
                    key = RecordBytes(bytes)
                }
            case "value":
                guard !sawValue else { throw invalid("give value or value_b64, not both.") }
                sawValue = true
                if isNull { _ = try parser.skipValue(depth: 2); break }
                let start = parser.index
                let compact = try parser.skipValue(depth: 2)
                let range = start..<parser.index
                // Stored as its compact text: the body's own bytes when they already are.
                value = compact ? reader.bytes(range) : RecordBytes(try JSONParser.parse(parser.slice(range)).compactBytes)
            case "value_b64":
                guard !sawValue else { throw invalid("give value or value_b64, not both.") }
                sawValue = true
                if isNull { _ = try parser.skipValue(depth: 2); break }
                guard parser.peek == UInt8(ascii: "\"") else { throw invalid("value_b64 must be a base64 string.") }
                guard let bytes = reader.base64(try parser.stringBytes()) else { throw invalid("value_b64 is not valid base64.") }
                value = RecordBytes(bytes)
            case "headers", "headers_b64":
                if isNull { _ = try parser.skipValue(depth: 2); break }
                let binary = name == "headers_b64"
                guard parser.consume(UInt8(ascii: "{")) else {
                    throw invalid(binary ? "headers_b64 must be an object of base64 strings." : "headers must be an object of strings.")
                }
                if parser.consume(UInt8(ascii: "}")) { break }
                repeat {
                    parser.skipWhitespace()
                    let header = try parser.parseString()
                    try parser.expect(UInt8(ascii: ":"), "expected ':'")
                    parser.skipWhitespace()
                    guard parser.peek == UInt8(ascii: "\"") else {
                        throw invalid(binary ? "header \(header) in headers_b64 must be a base64 string." : "header \(header) must be a string.")
                    }
                    let text = try parser.stringBytes()
                    if binary {
                        guard let bytes = reader.base64(text) else { throw invalid("header \(header) in headers_b64 is not valid base64.") }
                        headers.append(name: header, value: bytes)
                    } else {
                        headers.append(name: header, value: reader.bytes(text))
                    }
                } while parser.consume(UInt8(ascii: ","))
                try parser.expect(UInt8(ascii: "}"), "expected '}'")
            case "partition":
                let number = try parser.parseValue(depth: 2)
                if number == .null { break }
                guard let parsed = number.integer(in: ClientNumber.partitions) else {
                    throw invalid("partition must be a non-negative integer.")
                }
                partition = Int(parsed)
            case "timestamp":
                let number = try parser.parseValue(depth: 2)
                if number == .null { break }
                guard let parsed = number.integer(in: ClientNumber.timestamps) else {
                    throw invalid("timestamp must be milliseconds since the epoch, an integer from 0 to \(ClientNumber.timestamps.upperBound) (the end of the year 9999).")
                }
                timestamp = parsed
            default:
                throw invalid("unknown field \(name).")
            }
        } while parser.consume(UInt8(ascii: ","))
        try parser.expect(UInt8(ascii: "}"), "expected '}'")
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
        writeKey(record.key, to: &json)
        writeValue(record.value, to: &json)
        writeHeaders(record.headers, to: &json)
    }

    /// Writes `"key"`: a string, or `null`; a key that is not UTF-8 as `"key_b64"` instead, so
    /// that it is never decoded lossily.
    static func writeKey(_ key: RecordBytes?, to json: inout JSONWriter) {
        guard let key else {
            json.key("key"); json.null()
            return
        }
        key.withUnsafeBytes { raw in
            if UTF8Validation.isValid(raw) {
                json.key("key"); json.utf8String(raw)
            } else {
                json.key("key_b64"); json.base64(raw)
            }
        }
    }

    /// Writes `"headers"`, the headers whose values are UTF-8 as strings, and, when there are
    /// others, `"headers_b64"`, those as base64: no value is decoded lossily. Each keeps the
    /// headers' order.
    static func writeHeaders(_ headers: RecordHeaders, to json: inout JSONWriter) {
        var binary = false
        json.key("headers")
        json.beginObject()
        for header in headers {
            header.value.withUnsafeBytes { raw in
                guard UTF8Validation.isValid(raw) else { return binary = true }
                json.key(header.name)
                json.utf8String(raw)
            }
        }
        json.endObject()
        guard binary else { return }
        json.key("headers_b64")
        json.beginObject()
        for header in headers {
            header.value.withUnsafeBytes { raw in
                guard !UTF8Validation.isValid(raw) else { return }
                json.key(header.name)
                json.base64(raw)
            }
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

extension RecordJSON {
    /// A client message's `id` and `type` members (the last of each, as for any member), read
    /// without building the rest; `records` is parsed afterwards, in place.
    static func messageEnvelope(_ raw: UnsafeRawBufferPointer) throws -> (id: JSONValue, type: String?) {
        var parser = JSONParser(raw)
        parser.skipWhitespace()
        _ = try parser.skipValue(depth: 0)
        try parser.expectEnd()
        parser = JSONParser(raw)
        var id = JSONValue.null
        var type: String?
        guard parser.consume(UInt8(ascii: "{")), !parser.consume(UInt8(ascii: "}")) else { return (id, type) }
        repeat {
            parser.skipWhitespace()
            let name = try parser.parseString()
            try parser.expect(UInt8(ascii: ":"), "expected ':'")
            parser.skipWhitespace()
            switch name {
            case "id": id = try parser.parseValue(depth: 1)
            case "type": type = try parser.parseValue(depth: 1).stringValue
            default: _ = try parser.skipValue(depth: 1)
            }
        } while parser.consume(UInt8(ascii: ","))
        return (id, type)
    }
}
