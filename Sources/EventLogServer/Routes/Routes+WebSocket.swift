import EventLogJSON
import EventLog
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore

extension Routes where Context: WebSocketRequestContext {
    /// `GET /v1/topics/{topic}/ws`: the event stream as WebSocket text messages, and produce.
    ///
    /// The start is chosen as for SSE, with the cursor in `?cursor=` (or `?last_event_id=`).
    /// Errors before the upgrade (bad cursor, unknown topic, no read access) refuse it: the
    /// WebSocket library answers those `400`. A WebSocket never creates its topic. Produce
    /// messages need write access. See Docs/HTTP-API.md for the message shapes.
    func addWebSocketRoutes(to router: Router<Context>) {
        router.ws("/v1/topics/:topic/ws") { request, context in
            _ = try await resolveStreamStart(request, context, cursorParameter: Self.cursorParameter(request), creatingTopic: false)
            // Record messages always carry the whole record: `format=envelope` is what they are.
            guard [nil, "envelope"].contains(request.uri.queryParameters["format"]) else {
                throw APIError(.invalidArgument, "format on a WebSocket must be envelope (its record messages hold the whole record).")
            }
            guard server.lifecycle.phase != .stopping else {
                throw APIError(.unavailable, "The server is stopping.", headers: [.retryAfter: "1"])
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, wsContext in
            try await webSocketSession(inbound: inbound, outbound: outbound, request: wsContext.request, context: wsContext.requestContext)
        }
    }

    private static func cursorParameter(_ request: Request) -> String {
        request.uri.queryParameters["cursor"] != nil ? "cursor" : "last_event_id"
    }

    private func webSocketSession(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, request: Request, context: Context
    ) async throws {
        guard server.streamSlots.acquire() else {
            try await outbound.close(.unknown(1013), reason: "too many streams")
            return
        }
        server.metrics.streamOpened(webSocket: true)
        defer {
            server.streamSlots.release()
            server.metrics.streamClosed(webSocket: true)
        }
        let start: StreamStart
        do {
            start = try await resolveStreamStart(request, context, cursorParameter: Self.cursorParameter(request), creatingTopic: false)
        } catch {
            try await outbound.close(.unexpectedServerError, reason: "\(APIError.from(error).code.name)")
            return
        }
        let server = self.server
        let configuration = self.configuration
        let routes = self
        let maxMessage = configuration.maxBodyBytes
        // Produce messages need write access to the topic (the upgrade checked read access).
        let grant = try? await grant(request)
        let mayWrite = grant?.scope.allows(.write, topic: start.topic.name) ?? false
        // A JWT's `exp` ends the session: a `token_expired` message with the cursor, then a close (1008).
        let tokenDeadline = grant?.deadline
        // A client that reads nothing: its connection is closed after the stuck-stream timeout, as for SSE.
        let deadline = StreamWriteDeadline(channel: (context as? any ChannelRequestContext)?.channel,
                                           timeout: configuration.stuckStreamTimeout, server: server)
        @Sendable func send(_ text: String) async throws {
            try await deadline.within { try await outbound.write(.text(text)) }
        }

        await withTaskGroup(of: Void.self) { group in
            // Deliver: records, each with its cursor, as text messages.
            group.addTask {
                do {
                    var tail = try TopicTail(topic: start.topic, from: start.position)
                    var cursor = tail.position
                    var first = JSONWriter()
                    first.beginObject()
                    first.key("type"); first.string("start")
                    first.key("cursor"); first.string(cursor.description)
                    first.endObject()
                    try await send(String(decoding: first.bytes, as: UTF8.self))
                    for notice in tail.startNotices { try await send(Self.noticeMessage(notice)) }
                    while true {
                        if let tokenDeadline, tokenDeadline.hasPassed {
                            try await send(#"{"type":"token_expired","cursor":"\#(cursor)"}"#)
                            try await outbound.close(.policyViolation, reason: "token expired")
                            return
                        }
                        if server.lifecycle.phase == .stopping {
                            try await outbound.close(.goingAway, reason: "server stopping")
                            return
                        }
                        guard let step = try await tail.read(maxRecords: configuration.streamBatchRecords, maxBytes: configuration.streamBatchBytes) else {
                            try await outbound.close(.goingAway, reason: "topic deleted")
                            return
                        }
                        cursor.extend(toPartitionCount: tail.position.partitionCount)  // the topic grew
                        if step.isEmpty {
                            let idleTimeout = tokenDeadline?.capping(configuration.keepaliveInterval) ?? configuration.keepaliveInterval
                            let waiting = tail
                            switch await server.lifecycle.unlessStopping({ await waiting.waitForRecords(timeout: idleTimeout) }) {
                            case nil:
                                try await outbound.close(.goingAway, reason: "server stopping")
                                return
                            case true?: continue
                            case false?: try await send(#"{"type":"keepalive"}"#)
                            }
                            continue
                        }
                        for notice in step.notices {
                            cursor.advance(past: notice)
                            try await send(Self.noticeMessage(notice))
                        }
                        let now = currentTimeMilliseconds()
                        for item in step.items {
                            cursor.advance(past: item)
                            // Encoded from the record's read buffer, in place.
                            try await send(Self.recordMessage(item.content, partition: item.partition, cursor: cursor))
                            server.metrics.recordDelivery(timestamp: item.timestamp, nowMilliseconds: now)
                        }
                        cursor = tail.position
                    }
                } catch {
                    return
                }
            }
            // Accept: produce messages on the same socket, each answered with its id.
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: maxMessage) {
                        let answer = await routes.webSocketProduce(message, topic: start.topic, mayWrite: mayWrite)
                        try await send(answer)
                    }
                } catch {}
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Handles one client message: `{"type": "produce", "id": <any>, "records": [...]}`.
    private func webSocketProduce(_ message: WebSocketMessage, topic: Topic, mayWrite: Bool) async -> String {
        var id: JSONValue = .null
        do {
            // The message's bytes, which the records point into (a text message is copied
            // once, out of its `String`).
            let buffer: ByteBuffer
            switch message {
            case .text(let text): buffer = ByteBuffer(string: text)
            case .binary(let binary): buffer = binary
            }
            let envelope = try buffer.withUnsafeReadableBytes { raw in
                do {
                    return try RecordJSON.messageEnvelope(raw)
                } catch let failure as JSONParser.Failure {
                    throw APIError(.invalidJSON, "The message is not valid JSON: \(failure).")
                }
            }
            id = envelope.id
            guard envelope.type == "produce" else {
                throw APIError(.invalidArgument, "Messages to the server are {\"type\": \"produce\", \"id\", \"records\": [...]}.")
            }
            guard mayWrite else { throw APIError(.forbidden, "This token may not write topic \(topic.name).") }
            let records = try RecordJSON.parseProduceBody(buffer)
            let answer = try await append(records, to: topic)
            var out = JSONWriter()
            out.beginObject()
            out.key("type"); out.string("produced")
            out.key("id"); out.append(id)
            answer.writeOffsets(to: &out)
            out.endObject()
            return String(decoding: out.bytes, as: UTF8.self)
        } catch {
            let apiError = APIError.from(error)
            server.metrics.recordError(code: apiError.code.name)
            var out = JSONWriter()
            out.beginObject()
            out.key("type"); out.string("error")
            out.key("id"); out.append(id)
            out.key("error"); out.string(apiError.code.name)
            out.key("message"); out.string(apiError.message)
            out.endObject()
            return String(decoding: out.bytes, as: UTF8.self)
        }
    }

    private static func recordMessage(_ record: StoredRecord, partition: Int, cursor: TopicPosition) -> String {
        var out = JSONWriter()
        out.beginObject()
        out.key("type"); out.string("record")
        out.key("cursor"); out.string(cursor.description)
        RecordJSON.writeMembers(record, partition: partition, to: &out)
        out.endObject()
        return String(decoding: out.bytes, as: UTF8.self)
    }

    private static func noticeMessage(_ notice: TopicNotice) -> String {
        var out = JSONWriter()
        out.beginObject()
        out.key("type"); out.string(notice.kind.rawValue)
        out.key("partition"); out.int(notice.partition)
        out.key("requested"); out.int(notice.requested.rawValue)
        out.key("resumed_from"); out.int(notice.resumedFrom.rawValue)
        if notice.damaged { out.key("reason"); out.string("damaged") }
        out.endObject()
        return String(decoding: out.bytes, as: UTF8.self)
    }
}
