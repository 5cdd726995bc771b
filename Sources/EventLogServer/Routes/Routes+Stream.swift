import EventLog
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// Where a stream starts: its topic and the position asked for (a cursor, a group's commits,
/// or `from=`), before it is checked against the partitions (``TopicTail`` does that, with
/// its `gap` and `reset` notices).
struct StreamStart: Sendable {
    var topic: Topic
    var position: TopicPosition
    /// Consumer groups: `?group=G` once checked (its name, the request's access to it), when
    /// the start was found from the group's commits (`groupChecked`).
    var group: String?
    var groupChecked = false
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
    /// publisher) and auto-creation allows it (``topicCreatingIfNeeded(_:for:)``). `query`:
    /// the request's query parameters when the caller has them already (they are parsed anew
    /// at each `request.uri.queryParameters`).
    func resolveStreamStart(_ request: Request, _ context: Context, query: FlatDictionary<Substring, Substring>? = nil,
                            cursorParameter: String = "last_event_id", creatingTopic: Bool) async throws -> StreamStart {
        let name = try await topicName(request, context, for: .read)
        let query = query ?? request.uri.queryParameters
        var requested: TopicPosition?
        if let text = request.headers[lastEventIDField] ?? query[Substring(cursorParameter)].map(String.init) {
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
        let group = try await streamGroup(request, query: query)
        for (index, committed) in try await groupStreamPositions(group, topic: topic) ?? [:] {
            position[index] = committed
        }
        return StreamStart(topic: topic, position: position, group: group, groupChecked: true)
    }

    private func eventStream(_ request: Request, _ context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        let start = try await resolveStreamStart(request, context, query: query, creatingTopic: true)
        var headers = eventStreamHeadFields
        let format: ServerSentEventEncoder.Format
        switch query["format"] {
        case nil, "value": format = .value
        case "envelope": format = .envelope
        default: throw APIError(.invalidArgument, "format must be value or envelope.")
        }
        let encoder = ServerSentEventEncoder(format: format)
        // Reads are shared with the other streams, and so are their encoded events.
        let tail = try server.streamReadCache.tail(of: start.topic, from: start.position, encoder: encoder)
        // Consumer groups: `?group=G`.
        let group = start.groupChecked ? start.group : try await streamGroup(request, query: query)
        let groupCommits = try await groupCommitsForStream(group, topic: start.topic, from: tail.position)

        // A condition that can pass (too many streams, stopping) is a 200 the browser retries.
        guard server.lifecycle.phase != .stopping, server.streamSlots.acquire() else {
            return Self.refusedStream(retryMilliseconds: configuration.jitteredRetryMilliseconds(), headers: headers)
        }

        let tokenDeadline = try? await grant(request).deadline  // a JWT's `exp` ends the stream
        let compressed = acceptsGzip(request.headers[.acceptEncoding])
        if compressed { headers[.contentEncoding] = "gzip" }
        let channel = (context as? any ChannelRequestContext)?.channel
        let body = EventStreamBody(
            server: server, topic: start.topic, encoder: encoder, compressed: compressed, groupCommits: groupCommits,
            tokenDeadline: tokenDeadline, channel: channel,
            deadline: StreamWriteDeadline(channel: channel, timeout: configuration.stuckStreamTimeout, server: server))
        let retry = configuration.retryMilliseconds
        server.metrics.streamOpened(webSocket: false)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var output = EventStreamOutput(compressed: compressed)
            do {
                body.begin(from: tail, retryMilliseconds: retry, output: &output)
                try await body.deadline.write(output.take(), to: &writer)
            } catch {
                body.ended()
                throw error
            }
            try await body.run(from: tail, output: &output, writer: &writer)
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

/// `Last-Event-ID` and the fields of an event stream's answer: a name made from a string is
/// checked and lowercased, a literal's fields indexed, each time.
let lastEventIDField = HTTPField.Name("Last-Event-ID")!
let eventStreamHeadFields: HTTPFields = [
    .contentType: "text/event-stream; charset=utf-8",
    .cacheControl: "no-cache",
    HTTPField.Name("X-Accel-Buffering")!: "no",
    .vary: "Accept-Encoding",
]

/// An event stream once its head is written: what it needs to go on, which is all the live
/// fan-out keeps of a stream idling there when it came over the server's own HTTP/1.1 layer
/// (``HTTP1BodyWriter/detach()``, ADR 0005): no task, no frame.
struct EventStreamBody: Sendable {
    let server: LogServer
    let topic: Topic
    let encoder: ServerSentEventEncoder
    let compressed: Bool
    /// Consumer groups: `?group=G` commits what was delivered.
    let groupCommits: StreamGroupCommits?
    /// A JWT's `exp`, which ends the stream.
    let tokenDeadline: TokenDeadline?
    let channel: (any Channel)?
    let deadline: StreamWriteDeadline

    /// Caught up, a plain stream joins its topic's live fan-out (LiveFanout.swift); one that
    /// needs a step of its own per event (gzip, group commits, a token's expiry) never does.
    var joinsLiveFanout: Bool { channel != nil && !compressed && groupCommits == nil && tokenDeadline == nil }

    /// What a stream says first: `retry:`, the notices of its start (a gap, a reset) and the
    /// id-only event of its starting cursor.
    func begin(from tail: TopicTail<[UInt8]>, retryMilliseconds: Int, output: inout EventStreamOutput) {
        output.event { encoder.retry(milliseconds: retryMilliseconds, into: &$0) }
        for notice in tail.startNotices { output.event { encoder.notice(notice, into: &$0) } }
        output.event { encoder.checkpoint(tail.position, into: &$0) }
    }

    /// The stream is over: its slot and gauge are given back. Called once per stream.
    func ended() {
        server.streamSlots.release()
        server.metrics.streamClosed(webSocket: false)
    }

    /// Writes from `tail` to the stream's end, then calls ``ended()``; or returns at once when
    /// the stream idles in the live fan-out with no task, whose hand-back goes on
    /// (``goOn(after:writer:)``) and ends it later.
    func run(from tail: TopicTail<[UInt8]>, output: inout EventStreamOutput, writer: inout any ResponseBodyWriter) async throws {
        let detached: Bool
        do {
            detached = try await write(from: tail, output: &output, writer: &writer)
        } catch {
            ended()
            throw error
        }
        if !detached { ended() }
    }

    /// Goes on after the live fan-out handed a detached stream back, in the task that resumes it.
    func goOn(after handback: Handback, writer: inout any ResponseBodyWriter) async throws {
        var output = EventStreamOutput(compressed: compressed)
        switch handback {
        case .closed:
            return ended()
        case .slow(let position), .failed(let position):
            let tail: TopicTail<[UInt8]>
            do {
                tail = try alone(from: position, output: &output)
                try await deadline.write(output.take(), to: &writer)
            } catch {
                ended()
                throw error
            }
            try await run(from: tail, output: &output, writer: &writer)
        case .ended, .stopping, .notJoined:
            ended()
            try await writer.finish(nil)
        }
    }

    /// Joins the live fan-out at `position` and detaches `answer` (the server's own HTTP/1.1
    /// layer): the stream then waits in the hub with no task, and the hand-back resumes it in a
    /// new one, on the connection's loop. `false` when it cannot join (then nothing changed).
    /// On the connection's event loop only, where the hand-back's task cannot start before
    /// this returns; the stream must be one that ``joinsLiveFanout``.
    func joinDetached(at position: TopicPosition, answer: HTTP1Answer) -> Bool {
        guard let channel else { return false }
        let body = self
        let joined = server.liveFanout.join(topic, encoder: encoder, at: position, channel: channel) { handback in
            answer.resume(flushesEachWrite: true) { writer in try await body.goOn(after: handback, writer: &writer) }
        }
        if joined { answer.detach() }
        return joined
    }

    /// A stream the hub handed back goes on alone from `position`: its tail, and the notices
    /// its start has (a gap, a reset).
    private func alone(from position: TopicPosition, output: inout EventStreamOutput) throws -> TopicTail<[UInt8]> {
        let tail = try server.streamReadCache.tail(of: topic, from: position, encoder: encoder)
        for notice in tail.startNotices { output.event { encoder.notice(notice, into: &$0) } }
        return tail
    }

    /// The stream's loop; `true` when it left its task for the live fan-out.
    private func write(from start: TopicTail<[UInt8]>, output: inout EventStreamOutput,
                       writer: inout any ResponseBodyWriter) async throws -> Bool {
        let configuration = server.configuration
        var tail = start
        // The id of each event: the position after it, kept in step with what was written.
        var cursor = tail.position
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
                    if let detachable = writer as? HTTP1BodyWriter {
                        if joinDetached(at: cursor, answer: detachable.answer) { return true }
                    } else {
                        switch await server.liveFanout.join(topic, encoder: encoder, at: cursor, channel: channel) {
                        case .notJoined:
                            break  // wait alone, below
                        case .closed:
                            return false
                        case .slow(let position), .failed(let position):
                            // Go on alone from the first event the hub did not write here.
                            tail = try alone(from: position, output: &output)
                            cursor = tail.position
                            try await deadline.write(output.take(), to: &writer)
                            continue streaming
                        case .ended(let position), .stopping(let position):
                            cursor = position
                            break streaming
                        }
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
        return false
    }
}
