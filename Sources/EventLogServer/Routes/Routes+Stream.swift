import EventLog
import HTTPTypes
import Hummingbird
import NIOCore

/// Where a stream starts: its topic, its starting cursor and any notices to send first.
struct StreamStart: Sendable {
    var topic: Topic
    var cursor: StreamCursor
    var notices: [StreamNotice]
}

extension Routes {
    /// `GET /v1/topics/{topic}/events`: Server-Sent Events.
    func addStreamRoutes(to router: Router<Context>) {
        router.get("/v1/topics/:topic/events") { request, context in try await eventStream(request, context) }
    }

    /// Resolves the start of a stream: `Last-Event-ID` header, else `last_event_id` query
    /// parameter, else `from=earliest | latest | <offset>` (default `latest`).
    ///
    /// A malformed cursor, or one with another number of partitions than the topic, is
    /// `400 invalid_last_event_id`. A missing topic is `404 topic_not_found`, unless
    /// `creatingTopic` (the event stream: the contract lets subscribers come before the first
    /// publisher) and auto-creation allows it (``topicCreatingIfNeeded(_:for:)``).
    func resolveStreamStart(_ request: Request, _ context: Context, cursorParameter: String = "last_event_id",
                            creatingTopic: Bool) async throws -> StreamStart {
        let name = try await topicName(request, context, for: .read)
        let query = request.uri.queryParameters
        var requestedCursor: StreamCursor?
        if let text = request.headers[HTTPField.Name("Last-Event-ID")!] ?? query[Substring(cursorParameter)].map(String.init) {
            guard let cursor = StreamCursor(parsing: text) else {
                throw APIError(.invalidLastEventID, "The stream cursor must be -1 or an offset per partition, joined by commas (17,4,-1).")
            }
            requestedCursor = cursor
        }
        var from: FetchOffset = .latest
        if requestedCursor == nil, let text = query["from"] {
            guard let parsed = Self.parseFetchOffset(text) else {
                throw APIError(.invalidOffset, "from must be earliest, latest or a non-negative 64-bit integer.")
            }
            from = parsed
        }
        let topic = creatingTopic ? try await topicCreatingIfNeeded(name, for: request) : try existingTopic(name)
        let partitions = topic.partitions
        if let requestedCursor, requestedCursor.lastDelivered.count != partitions.count {
            throw APIError(.invalidLastEventID,
                           "The cursor has \(requestedCursor.lastDelivered.count) partitions; topic \(name) has \(partitions.count).")
        }

        // Consumer groups: `?group=G` starts at the group's commits (Routes+Groups.swift).
        let groupPositions = requestedCursor == nil ? try await groupStreamPositions(request, topic: topic) : nil
        var lastDelivered: [Int64] = []
        var notices: [StreamNotice] = []
        for (index, partition) in partitions.enumerated() {
            let start = partition.startOffset.rawValue
            let end = partition.endOffset.rawValue
            var next: Int64
            if let requestedCursor {
                next = requestedCursor.lastDelivered[index] + 1
            } else if let committed = groupPositions?[index] {
                next = committed.rawValue  // consumer groups
            } else {
                switch from {
                case .earliest: next = start
                case .latest: next = end
                case .offset(let offset): next = min(offset, end)
                }
            }
            if next < start {
                notices.append(StreamNotice(kind: .gap, partition: index, requested: next, resumedFrom: start))
                next = start
            } else if next > end {
                notices.append(StreamNotice(kind: .reset, partition: index, requested: next, resumedFrom: end))
                next = end
            }
            lastDelivered.append(next - 1)
        }
        return StreamStart(topic: topic, cursor: StreamCursor(lastDelivered: lastDelivered), notices: notices)
    }

    /// The reconnection delay with up to 100 % jitter, so that refused clients do not return together.
    func jitteredRetry() -> Int {
        configuration.retryMilliseconds + Int.random(in: 0...max(1, configuration.retryMilliseconds))
    }

    private func eventStream(_ request: Request, _ context: Context) async throws -> Response {
        let start = try await resolveStreamStart(request, context, creatingTopic: true)
        let groupCommits = try await groupCommitsForStream(request, start: start)  // consumer groups: `?group=G`
        var headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache",
            HTTPField.Name("X-Accel-Buffering")!: "no",
            .vary: "Accept-Encoding",
        ]
        let encoder = ServerSentEventEncoder()

        // A condition that can pass (too many streams, stopping) is a 200 the browser retries.
        guard server.lifecycle.phase != .stopping, server.streamSlots.acquire() else {
            return Self.refusedStream(retryMilliseconds: jitteredRetry(), headers: headers)
        }

        let tokenDeadline = try? await grant(request).deadline  // a JWT's `exp` ends the stream
        let compressed = acceptsGzip(request.headers[.acceptEncoding])
        if compressed { headers[.contentEncoding] = "gzip" }
        let server = self.server
        let configuration = self.configuration
        let retry = configuration.retryMilliseconds
        let deadline = StreamWriteDeadline(channel: (context as? any ChannelRequestContext)?.channel,
                                           timeout: configuration.stuckStreamTimeout, server: server)
        let tail = TopicTail(
            partitions: start.topic.partitions, cursor: start.cursor,
            batchRecords: configuration.streamBatchRecords, batchBytes: configuration.streamBatchBytes,
            cache: server.streamReadCache
        )
        server.metrics.streamOpened(webSocket: false)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer {
                server.streamSlots.release()
                server.metrics.streamClosed(webSocket: false)
            }
            var tail = tail
            var output = EventStreamOutput(compressed: compressed)
            output.event { encoder.retry(milliseconds: retry, into: &$0) }
            for notice in start.notices { output.event { encoder.notice(notice, into: &$0) } }
            output.event { encoder.checkpoint(start.cursor, into: &$0) }
            try await deadline.write(output.take(), to: &writer)

            streaming: while true {
                if let tokenDeadline, tokenDeadline.hasPassed {
                    output.event { encoder.tokenExpired(tail.cursor, into: &$0) }
                    break streaming
                }
                var idleTimeout = groupCommits?.idleTimeout(configuration.keepaliveInterval) ?? configuration.keepaliveInterval  // consumer groups
                if let tokenDeadline { idleTimeout = tokenDeadline.capping(idleTimeout) }
                let step = try await tail.next(lifecycle: server.lifecycle, idleTimeout: idleTimeout)
                switch step {
                case .stopped:
                    break streaming
                case .idle:
                    output.event { encoder.keepalive(into: &$0) }
                case .records(let records, let notices):
                    for notice in notices { output.event { encoder.notice(notice, into: &$0) } }
                    for item in records {
                        output.event { frame in
                            switch item.content {
                            case .event(let body):
                                // Shared with every stream on the partition; only the id is this stream's.
                                encoder.id(item.cursor, into: &frame)
                                frame.append(contentsOf: body)
                            case .record(let record):
                                encoder.record(record, cursor: item.cursor, into: &frame)
                            }
                        }
                    }
                    let now = currentTimeMilliseconds()
                    for item in records { server.metrics.recordDelivery(timestamp: item.timestamp, nowMilliseconds: now) }
                }
                // Awaiting the write is the back-pressure: no read-ahead past one batch. A write
                // that makes no progress within the stuck-stream timeout closes the connection.
                // Consumer groups: commit the delivered cursor, also when the client went away.
                do { try await deadline.write(output.take(), to: &writer) } catch { await groupCommits?.finish(); throw error }
                await groupCommits?.delivered(tail.cursor)
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
