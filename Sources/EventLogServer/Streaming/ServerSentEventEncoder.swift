import EventLogJSON
public import EventLog

/// Frames records and notices as `text/event-stream` (WHATWG HTML §9.2), lines ending in `\n`.
///
/// A record is `id: <cursor>`, then `event: <type>` when it has a `type` header (else
/// `event: binary` when its value is not UTF-8), then one `data: ` line per line of the value
/// (split at `\r\n`, `\r` and `\n`, which the parser would split at too), then a blank line.
/// A non-UTF-8 value is sent as its base64. A tombstone is one `data: null` line, as fetch
/// reads it, so it still fires an event.
public struct ServerSentEventEncoder: Sendable {
    /// What an event's `data:` holds.
    public enum Format: String, Sendable, Hashable {
        /// The record's value (`?format=value`, the default).
        case value
        /// The whole record as one JSON object (`?format=envelope`): `partition`, `offset`,
        /// `timestamp`, `key` (or `key_b64`), `type`, `value` (or `value_b64`), `headers`
        /// (and `headers_b64`), as a fetch answers each record, plus the `type` header's text.
        case envelope
    }

    /// What each record's `data:` holds.
    public var format: Format

    /// Makes an encoder of records in `format`.
    public init(format: Format = .value) {
        self.format = format
    }

    /// The stream's first bytes: the reconnection delay a client should wait.
    public func retry(milliseconds: Int, into buffer: inout [UInt8]) {
        append("retry: \(milliseconds)\n\n", to: &buffer)
    }

    /// An event holding only an id: the browser records it as `lastEventId` and fires nothing.
    public func checkpoint(_ cursor: TopicPosition, into buffer: inout [UInt8]) {
        append("id: \(cursor)\n\n", to: &buffer)
    }

    /// A comment line that keeps idle connections (and proxies) alive.
    public func keepalive(into buffer: inout [UInt8]) {
        append(": keepalive\n\n", to: &buffer)
    }

    /// A `gap` or `reset` notice: no id, a JSON object of the partition and offsets, and
    /// `"reason": "damaged"` for a gap over damaged stored data.
    public func notice(_ notice: TopicNotice, into buffer: inout [UInt8]) {
        let reason = notice.damaged ? ",\"reason\":\"damaged\"" : ""
        append("event: \(notice.kind.rawValue)\ndata: {\"partition\":\(notice.partition),\"requested\":\(notice.requested),\"resumed_from\":\(notice.resumedFrom)\(reason)}\n\n", to: &buffer)
    }

    /// The last event of a stream whose token expired: no id, the cursor to resume from as
    /// `data: {"cursor": "17"}`. The client reconnects with a fresh token and that cursor
    /// (`Last-Event-ID`, or `?last_event_id=`).
    public func tokenExpired(_ cursor: TopicPosition, into buffer: inout [UInt8]) {
        append("event: token_expired\ndata: {\"cursor\":\"\(cursor)\"}\n\n", to: &buffer)
    }

    /// An event's `id:` line, to put before a ``recordBody(_:partition:into:)``.
    public func id(_ cursor: TopicPosition, into buffer: inout [UInt8]) {
        append("id: \(cursor)\n", to: &buffer)
    }

    /// One record of partition `partition` as one event whose id is `cursor` (the cursor after
    /// this record).
    public func record(_ record: StoredRecord, partition: Int = 0, cursor: TopicPosition, into buffer: inout [UInt8]) {
        append("id: \(cursor)\n", to: &buffer)
        recordBody(record, partition: partition, into: &buffer)
    }

    /// One record's event after its `id:` line: the same for every stream, so it can be
    /// encoded once and shared (the id is each stream's own cursor).
    ///
    /// Encoded from the record's bytes where they are (a read's buffer): the value is copied
    /// once, into `buffer`. A `type` header that is not UTF-8 names no event (an event name is
    /// text); the JSON routes give it exactly, in `headers_b64`.
    public func recordBody(_ record: StoredRecord, partition: Int, into buffer: inout [UInt8]) {
        let type = record.headers["type"].flatMap { type in type.withUnsafeBytes { UTF8Validation.isValid($0) } ? type : nil }
        if format == .envelope {
            appendEventLine(type, to: &buffer)
            var json = JSONWriter(reservingCapacity: 96 + (record.value?.count ?? 0))
            json.beginObject()
            RecordJSON.writeMembers(record, partition: partition, to: &json)
            json.key("type")
            if let type { type.withUnsafeBytes { json.utf8String($0) } } else { json.null() }
            json.endObject()
            buffer.append(contentsOf: "data: ".utf8)
            buffer.append(contentsOf: json.bytes)  // one line: JSON strings escape line breaks
            buffer.append(contentsOf: "\n\n".utf8)
            return
        }
        guard let value = record.value else {
            appendEventLine(type, to: &buffer)
            append("data: null\n\n", to: &buffer)
            return
        }
        value.withUnsafeBytes { raw in
            if UTF8Validation.isValid(raw) {
                appendEventLine(type, to: &buffer)
                appendDataLines(raw, to: &buffer)
            } else {
                if type != nil { appendEventLine(type, to: &buffer) } else { append("event: binary\n", to: &buffer) }
                buffer.append(contentsOf: "data: ".utf8)
                Base64.encode(raw, into: &buffer)
                buffer.append(UInt8(ascii: "\n"))
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    /// `event: <type>`, kept on its line (line breaks dropped); nothing without a type.
    private func appendEventLine(_ type: RecordBytes?, to buffer: inout [UInt8]) {
        guard let type else { return }
        buffer.append(contentsOf: "event: ".utf8)
        type.withUnsafeBytes { raw in
            for byte in raw where byte != 0x0A && byte != 0x0D { buffer.append(byte) }
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    /// One `data:` line per line of `value`; an empty value is one empty `data:` line.
    private func appendDataLines(_ value: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + value.count + 8)
        buffer.append(contentsOf: "data: ".utf8)
        var lineStart = 0
        var i = 0
        while i < value.count {
            let byte = value[i]
            if byte == 0x0D || byte == 0x0A {
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[lineStart..<i]))
                buffer.append(contentsOf: "\ndata: ".utf8)
                if byte == 0x0D, i + 1 < value.count, value[i + 1] == 0x0A { i += 1 }
                lineStart = i + 1
            }
            i += 1
        }
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[lineStart..<value.count]))
        buffer.append(UInt8(ascii: "\n"))
    }

    private func append(_ text: String, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: text.utf8)
    }
}
