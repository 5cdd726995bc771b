import EventLog
import HTTPTypes
import Hummingbird
import NIOCore

/// Where a stream starts: its topic and the position asked for (a cursor, a group's commits,
/// or `from=`), before it is checked against the partitions (``TopicTail`` does that, with
/// its `gap` and `reset` notices).
struct StreamStart: Sendable {
    var topic: Topic
    var position: TopicPosition
}

extension Routes {
    /// `GET /v1/topics/{topic}/events`: Server-Sent Events.
    func addStreamRoutes(to router: Router<Context>) {
        router.get("/v1/topics/:topic/events") { request, context in try await eventStream(request, context) }
    }

    /// Resolves the start of a stream: `Last-Event-ID` header, else `last_event_id` query
    /// parameter, else `?group=G`'s commits, else `from=earliest | latest | <offset>`
    /// (default `latest`).
    ///
    /// A malformed cursor, or one with another number of partitions than the topic, is
    /// `400 invalid_last_event_id`; except that a topic that grew also takes a cursor with a
    /// count it had before (from ``Topic/createdPartitionCount`` up), taken before the growth:
    /// its new partitions are then read from their start. A missing topic is `404 topic_not_found`, unless
    /// `creatingTopic` (the event stream: the contract lets subscribers come before the first
    /// publisher) and auto-creation allows it (``topicCreatingIfNeeded(_:for:)``).
    func resolveStreamStart(_ request: Request, _ context: Context, cursorParameter: String = "last_event_id",
                            creatingTopic: Bool) async throws -> StreamStart {
        let name = try await topicName(request, context, for: .read)
        let query = request.uri.queryParameters
        var requested: TopicPosition?
        if let text = request.headers[HTTPField.Name("Last-Event-ID")!] ?? query[Substring(cursorParameter)].map(String.init) {
            guard let position = TopicPosition(parsing: text) else {
                throw APIError(.invalidLastEventID, "The stream cursor must be -1 or an offset per partition, joined by commas (17,4,-1).")
            }
            requested = position
        }
        var from: FetchOffset = .latest
        if requested == nil, let text = query["from"] {
            guard let parsed = Self.parseFetchOffset(text) else {
                throw APIError(.invalidOffset, "from must be earliest, latest, a non-negative 64-bit integer or time:<ms or ISO 8601>.")
            }
            from = parsed
        }
        let topic = creatingTopic ? try await topicCreatingIfNeeded(name, for: request) : try existingTopic(name)
        if let requested {
            let count = topic.partitionCount
            let taken = topic.hasGrown ? topic.createdPartitionCount...count : count...count
            guard taken.contains(requested.partitionCount) else {
                throw APIError(.invalidLastEventID, "The cursor has \(requested.partitionCount) partitions; topic \(name) has \(count).")
            }
            return StreamStart(topic: topic, position: requested)
        }
        let start: StartPosition = switch from {
        case .earliest: .earliest
        case .latest: .latest
        case .offset(let offset): .offset(Offset(offset))
        case .time(let milliseconds): .timestamp(milliseconds)
        }
        var position = try await topic.position(for: start)
        // Consumer groups: `?group=G` starts at the group's commits (Routes+Groups.swift).
        for (index, committed) in try await groupStreamPositions(request, topic: topic) ?? [:] {
            position[index] = committed
        }
        return StreamStart(topic: topic, position: position)
    }

    private func eventStream(_ request: Request, _ context: Context) async throws -> Response {
        let start = try await resolveStreamStart(request, context, creatingTopic: true)
        var headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache",
            HTTPField.Name("X-Accel-Buffering")!: "no",
            .vary: "Accept-Encoding",
        ]
        let format: ServerSentEventEncoder.Format
        switch request.uri.queryParameters["format"] {
        case nil, "value": format = .value
        case "envelope": format = .envelope
        default: throw APIError(.invalidArgument, "format must be value or envelope.")
        }
        let encoder = ServerSentEventEncoder(format: format)
        // Reads are shared with the other streams, and so are their encoded events.
        let tail = try server.streamReadCache.tail(of: start.topic, from: start.position, encoder: encoder)
        let groupCommits = try await groupCommitsForStream(request, topic: start.topic, from: tail.position)  // consumer groups: `?group=G`

        // A condition that can pass (too many streams, stopping) is a 200 the browser retries.
        guard server.lifecycle.phase != .stopping, server.streamSlots.acquire() else {
            return Self.refusedStream(retryMilliseconds: configuration.jitteredRetryMilliseconds(), headers: headers)
        }

        let tokenDeadline = try? await grant(request).deadline  // a JWT's `exp` ends the stream
        let compressed = acceptsGzip(request.headers[.acceptEncoding])
        if compressed { headers[.contentEncoding] = "gzip" }
        let server = self.server
        let configuration = self.configuration
        let retry = configuration.retryMilliseconds
        let channel = (context as? any ChannelRequestContext)?.channel
        let deadline = StreamWriteDeadline(channel: channel, timeout: configuration.stuckStreamTimeout, server: server)
        // Caught up, a plain stream joins its topic's live fan-out (LiveFanout.swift); one that
        // needs a step of its own per event (gzip, group commits, a token's expiry) never does.
        let joinsLiveFanout = channel != nil && !compressed && groupCommits == nil && tokenDeadline == nil
        server.metrics.streamOpened(webSocket: false)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer {
                server.streamSlots.release()
                server.metrics.streamClosed(webSocket: false)
            }
            var tail = tail
            // The id of each event: the position after it, kept in step with what was written.
            var cursor = tail.position
            var output = EventStreamOutput(compressed: compressed)
            output.event { encoder.retry(milliseconds: retry, into: &$0) }
            for notice in tail.startNotices { output.event { encoder.notice(notice, into: &$0) } }
            output.event { encoder.checkpoint(cursor, into: &$0) }
            try await deadline.write(output.take(), to: &writer)

            streaming: while true {
                if let tokenDeadline, tokenDeadline.hasPassed {
                    output.event { encoder.tokenExpired(cursor, into: &$0) }
                    break streaming
                }
                if server.lifecycle.phase == .stopping { break streaming }
                // `nil`: the topic was deleted (or the store closed); the client reconnects.
                guard let step = try await tail.read(maxRecords: configuration.streamBatchRecords, maxBytes: configuration.streamBatchBytes) else {
                    break streaming
                }
                cursor.extend(toPartitionCount: tail.position.partitionCount)  // the topic grew: ids name every partition
                if step.isEmpty {
                    if joinsLiveFanout, let channel {
                        let topic = start.topic
                        let at = cursor
                        switch await withCheckedContinuation({ server.liveFanout.join(topic, encoder: encoder, at: at, channel: channel, $0) }) {
                        case .notJoined:
                            break  // wait alone, below
                        case .closed:
                            return
                        case .slow(let position), .failed(let position):
                            // Go on alone from the first event the hub did not write here.
                            tail = try server.streamReadCache.tail(of: topic, from: position, encoder: encoder)
                            for notice in tail.startNotices { output.event { encoder.notice(notice, into: &$0) } }
                            cursor = tail.position
                            try await deadline.write(output.take(), to: &writer)
                            continue streaming
                        case .ended(let position), .stopping(let position):
                            cursor = position
                            break streaming
                        }
                    }
                    let keepalive = groupCommits?.idleTimeout(configuration.keepaliveInterval) ?? configuration.keepaliveInterval  // consumer groups
                    let idleTimeout = tokenDeadline?.capping(keepalive) ?? keepalive
                    let waiting = tail
                    switch await server.lifecycle.unlessStopping({ await waiting.waitForRecords(timeout: idleTimeout) }) {
                    case nil: break streaming
                    case true?: continue streaming
                    case false?: output.event { encoder.keepalive(into: &$0) }
                    }
                } else {
                    for notice in step.notices {
                        cursor.advance(past: notice)
                        output.event { encoder.notice(notice, into: &$0) }
                    }
                    for item in step.items {
                        cursor.advance(past: item)
                        output.event { frame in
                            // Encoded once, from the read's buffer, and shared with every stream
                            // on the partition; only the id is this stream's.
                            encoder.id(cursor, into: &frame)
                            frame.append(contentsOf: item.content)
                        }
                    }
                    cursor = tail.position
                    let now = currentTimeMilliseconds()
                    for item in step.items { server.metrics.recordDelivery(timestamp: item.timestamp, nowMilliseconds: now) }
                }
                // Awaiting the write is the back-pressure: no read-ahead past one batch. A write
                // that makes no progress within the stuck-stream timeout closes the connection.
                // Consumer groups: commit the delivered cursor, also when the client went away.
                do { try await deadline.write(output.take(), to: &writer) } catch { await groupCommits?.finish(); throw error }
                await groupCommits?.delivered(cursor)
            }
            await groupCommits?.finish()  // consumer groups
            output.finish()
            try await deadline.write(output.take(), to: &writer)
            try await writer.finish(nil)
        })
    }

    /// The answer to a stream that cannot be served now: `200`, a jittered `retry:` and the end,
    /// so that a browser's `EventSource` comes back by itself.
    static func refusedStream(retryMilliseconds: Int, headers: HTTPFields) -> Response {
        var headers = headers
        var bytes: [UInt8] = []
        ServerSentEventEncoder().retry(milliseconds: retryMilliseconds, into: &bytes)
        headers[.connection] = "close"
        headers[.contentEncoding] = nil
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
