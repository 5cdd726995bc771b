import EventLogJSON
import EventLog
import Hummingbird
import HummingbirdCore
import NIOCore

/// The server's parsers of what clients send, as entry points for the fuzz targets
/// (Tools/fuzz, `EventLogFuzzTargets`): each takes any bytes and must return. A refusal
/// (a thrown ``APIError`` or `nil`) is the expected answer to bad input; a trap, a hang or a
/// broken invariant (checked with `precondition`, so the fuzzer sees it as a crash) is a finding.
package enum ServerParsers {
    /// A produce request's body (`POST /v1/topics/{t}/records`): the records it holds point into
    /// the body and are read through; at most ``RecordJSON/maxRecordsPerRequest`` of them. A body
    /// that is JSON also parses as a document that writes back and parses again to the same value.
    package static func produceBody(_ bytes: [UInt8]) {
        if let records = try? RecordJSON.parseProduceBody(ByteBuffer(bytes: bytes)) {
            precondition(records.count <= RecordJSON.maxRecordsPerRequest, "more records than a request may hold")
            for produced in records {
                _ = (produced.record.key?.count, produced.record.value?.count, produced.partition, produced.record.timestamp)
                for header in produced.record.headers { _ = (header.name.utf8.count, header.value.count) }
            }
        }
        if let document = try? JSONParser.parse(bytes) {
            var writer = JSONWriter()
            writer.append(document)
            let again = try? JSONParser.parse(writer.bytes)
            precondition(again == document, "a JSON document written back reads as another value")
        }
    }

    /// A WebSocket client message (`{"type": "produce", "id": …, "records": […]}`): its envelope,
    /// then its records, as the WebSocket route reads them.
    package static func webSocketMessage(_ bytes: [UInt8]) {
        let buffer = ByteBuffer(bytes: bytes)
        guard let envelope = try? buffer.withUnsafeReadableBytes({ try RecordJSON.messageEnvelope($0) }) else { return }
        _ = envelope.type
        var writer = JSONWriter()
        writer.append(envelope.id)  // the answer echoes the id
        if let records = try? RecordJSON.parseProduceBody(buffer) {
            precondition(records.count <= RecordJSON.maxRecordsPerRequest, "more records than a message may hold")
        }
    }

    /// A request target's query string, each parameter through the parsers the routes use:
    /// numbers in their ranges, fetch offsets, times, stream cursors (`last_event_id`).
    package static func queryParameters(_ bytes: [UInt8]) {
        let query = String(decoding: bytes, as: UTF8.self)
        let uri = URI("/v1/topics/t/events?" + query)
        for (_, value) in uri.queryParameters {
            if let number = ClientNumber.parse(value, in: ClientNumber.offsets) {
                precondition(ClientNumber.offsets.contains(number), "a number outside its range")
                precondition(ClientNumber.parse(String(number), in: ClientNumber.offsets) == number, "a number that does not read back")
            }
            if let number = ClientNumber.parse(value, in: 1...10_000) { precondition((1...10_000).contains(number), "a number outside its range") }
            _ = ClientNumber.decimal(value, exceeds: 1 << 20)
            _ = Routes<LogRequestContext>.parseFetchOffset(value)
            if let time = Routes<LogRequestContext>.parseTime(String(value)) {
                precondition(time >= 0, "a time before the epoch")
            }
            sseCursor(Array(value.utf8))
        }
    }

    /// A stream cursor (`Last-Event-ID` header, `last_event_id` parameter): one that parses
    /// prints as text that parses to the same position.
    package static func sseCursor(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let position = TopicPosition(parsing: text) else { return }
        precondition(TopicPosition(parsing: position.description) == position, "a cursor that does not read back")
    }
}
