import NIOHTTP1
import Foundation

extension EventLogClient {
    /// Appends `records` to `topic` (`POST /v1/topics/{topic}/records`) and returns where
    /// each went, in order, once they are as durable as the topic's `durability` says.
    ///
    /// With an `idempotencyKey` a retry of the same call (after a timeout, say) gets the
    /// first answer again and appends nothing (Docs/HTTP-API.md, Idempotency-Key).
    ///
    /// - Throws: ``EventLogClientError`` with ``EventLogClientError/Code/invalidRecord``
    ///   (status 400), before anything is sent, when a ``RecordValue/json(_:)`` value is not
    ///   exactly one JSON value (its text goes into the request as it is); else the server's
    ///   error.
    @discardableResult
    public func produce(_ records: [OutgoingRecord], to topic: String, idempotencyKey: String? = nil) async throws -> [RecordPosition] {
        for (n, record) in records.enumerated() {
            if case .json(let text)? = record.value, !(record.value!.isWellFormed) {
                throw EventLogClientError(code: .invalidRecord, message: "The value of record \(n) (from 0) is not one JSON value: \(text.prefix(60)).",
                                          status: 400)
            }
        }
        let answer = try await send(request(.POST, Self.path("topics", topic, "records"), body: Self.produceBody(records),
                                            headers: idempotencyKey.map { [("Idempotency-Key", $0)] } ?? []))
        guard let offsets = try Self.parse(answer.body, status: answer.status)[member: "offsets"]?.array else {
            throw EventLogClientError.invalidResponse("a produce answer without \"offsets\"", status: answer.status)
        }
        return try offsets.map { o in
            guard let partition = o[member: "partition"]?.int64, let offset = o[member: "offset"]?.int64 else {
                throw EventLogClientError.invalidResponse("an offset without partition or offset", status: answer.status)
            }
            return RecordPosition(partition: Int(partition), offset: offset)
        }
    }

    static func produceBody(_ records: [OutgoingRecord]) -> String {
        var out = "{\"records\": ["
        for (n, record) in records.enumerated() {
            if n > 0 { out += ", " }
            out += "{"
            var fields: [String] = []
            if let key = record.key { fields.append("\"key\": " + jsonString(key)) }
            switch record.value {
            case nil: fields.append("\"value\": null")
            case .json(let text)?: fields.append("\"value\": " + text)
            case .bytes(let bytes)?: fields.append("\"value_b64\": \"" + Data(bytes).base64EncodedString() + "\"")
            }
            if !record.headers.isEmpty {
                fields.append("\"headers\": {" + record.headers.map { jsonString($0.name) + ": " + jsonString($0.value) }.joined(separator: ", ") + "}")
            }
            if let partition = record.partition { fields.append("\"partition\": \(partition)") }
            if let timestamp = record.timestamp { fields.append("\"timestamp\": \(timestamp)") }
            out += fields.joined(separator: ", ") + "}"
        }
        return out + "]}"
    }

    /// Reads up to `limit` records of one partition from `from`
    /// (`GET /v1/topics/{topic}/records`); with a `wait`, an empty answer is held until a
    /// record arrives or the wait passes (long-poll).
    public func fetch(topic: String, partition: Int = 0, from: FetchStart = .earliest, limit: Int = 100,
                      wait: Duration = .zero) async throws -> FetchResult {
        let waitMs = wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000
        let query = Self.query([("partition", String(partition)), ("offset", from.queryValue), ("limit", String(limit)),
                                ("wait_ms", waitMs > 0 ? String(waitMs) : nil)])
        let answer = try await send(request(.GET, Self.path("topics", topic, "records") + query))
        let json = try Self.parse(answer.body, status: answer.status)
        guard let records = json[member: "records"]?.array, let next = json[member: "next_offset"]?.int64 else {
            throw EventLogClientError.invalidResponse("a fetch answer without records or next_offset", status: answer.status)
        }
        var gap: FetchResult.Gap?
        if let g = json[member: "gap"], let requested = g[member: "requested"]?.int64, let resumed = g[member: "resumed_from"]?.int64 {
            gap = .init(requested: requested, resumedFrom: resumed, reason: g[member: "reason"]?.string)
        }
        return FetchResult(records: try records.map { try Self.fetchedRecord($0, status: answer.status) }, nextOffset: next, gap: gap)
    }

    static func fetchedRecord(_ r: RawJSON, status: Int) throws -> FetchedRecord {
        guard let partition = r[member: "partition"]?.int64, let offset = r[member: "offset"]?.int64 else {
            throw EventLogClientError.invalidResponse("a record without partition or offset", status: status)
        }
        var value: RecordValue?
        if let b64 = r[member: "value_b64"]?.string {
            guard let data = Data(base64Encoded: b64) else { throw EventLogClientError.invalidResponse("value_b64 that is not base64", status: status) }
            value = .bytes(Array(data))
        } else if let v = r[member: "value"], !v.isNull {
            value = .json(String(decoding: v.raw, as: UTF8.self))
        }
        var headers: [String: String] = [:]
        if case .object(let members)? = r[member: "headers"]?.kind {
            for member in members { headers[member.name] = member.value.string }
        }
        return FetchedRecord(partition: Int(partition), offset: offset, timestamp: r[member: "timestamp"]?.int64 ?? 0,
                             key: r[member: "key"]?.string, value: value, headers: headers)
    }
}
