import EventLog
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

extension Routes {
    /// `GET /v1/topics/{topic}/events` answered without the router, the middleware, a
    /// `Request` or a task: on the connection's event loop, as the request's last byte is read
    /// (Docs/adr/0009-event-stream-shortcut.md). A stream whose start is caught up with its
    /// topic writes its first bytes and joins the live fan-out there and then, so that it
    /// costs no task at all; any other goes on in one task on the connection's loop (the
    /// route's child task and the router's frames are skipped all the same).
    ///
    /// It answers only a request the router would answer with the same bytes after the same
    /// work: the path exactly `/v1/topics/{topic}/events` of an existing topic; a start known
    /// without a wait (`Last-Event-ID` or `last_event_id`, else `from=` `latest`, `earliest`
    /// or an offset; no `from=time:`, no `?group=`); `format` `value` or `envelope`; no
    /// `Accept-Encoding: gzip` (a compressed stream needs a step of its own per event) and no
    /// `Upgrade`; and nothing for the middleware to do: authentication off, or an
    /// `Authorization: Bearer` token whose grant is known now, may read the topic and does not
    /// expire (a JWT's `exp` ends its stream, which then needs a step of its own); no rate
    /// limit; no `Origin` when CORS origins are set; fewer connections than
    /// ``LogServerConfiguration/maxConnections``; a stream slot free and the server not
    /// stopping. For every other request, and for any error, it returns `nil` and the router
    /// answers.
    ///
    /// The caller must have built its router with exactly ``LogServer/addMiddleware(to:)`` and
    /// ``LogServer/addRoutes(to:)``: middleware of its own would not see these requests.
    func streamShortcut(_ head: HTTPRequest) -> HTTP1Shortcut? {
        guard head.method == .get, let target = head.path else { return nil }
        let fields = head.headerFields
        guard fields[.upgrade] == nil else { return nil }
        return streamShortcut(target: target, hasOrigin: fields[.origin] != nil, acceptEncoding: fields[.acceptEncoding],
                              authorization: fields[.authorization], lastEventID: fields[lastEventIDField])
    }

    /// The same for a `GET` parsed in front of NIO's decoder (``HTTP1FrontLane``, which declines
    /// any request with `Upgrade`, Docs/adr/0011-event-streams-in-front-of-the-decoder.md).
    func streamShortcut(_ request: HTTP1FrontRequest) -> HTTP1Shortcut? {
        guard request.method == .get else { return nil }
        return streamShortcut(target: request.target, hasOrigin: request.hasOrigin, acceptEncoding: request.acceptEncoding,
                              authorization: request.authorization, lastEventID: request.lastEventID)
    }

    /// A `GET` of `target` without `Upgrade`, with these fields.
    private func streamShortcut(target: String, hasOrigin: Bool, acceptEncoding: String?, authorization: String?,
                                lastEventID: String?) -> HTTP1Shortcut? {
        guard server.rateLimiter == nil else { return nil }
        if !configuration.corsOrigins.isEmpty, hasOrigin { return nil }
        if let limit = configuration.maxConnections, server.connections.current > limit { return nil }
        guard !acceptsGzip(acceptEncoding) else { return nil }
        let uri = URI(target)
        guard let rawName = Self.streamTopic(inPath: uri.path.utf8), let name = percentDecoded(rawName),
              (try? LogStore.validateTopicName(name)) != nil, let topic = store.topic(named: name)
        else { return nil }
        if let authenticator = server.authenticator {
            guard let grant = authenticator.knownGrant(authorization: authorization),
                  grant.expiresAtSeconds == nil, grant.scope.allows(.read, topic: name)
            else { return nil }
        }

        let query = uri.queryParameters
        guard query["group"] == nil else { return nil }
        let format: ServerSentEventEncoder.Format
        switch query["format"] {
        case nil, "value": format = .value
        case "envelope": format = .envelope
        default: return nil
        }
        guard let position = streamPosition(lastEventID ?? query["last_event_id"].map(String.init),
                                            from: query["from"], in: topic)
        else { return nil }
        let encoder = ServerSentEventEncoder(format: format)
        guard let tail = try? server.streamReadCache.tail(of: topic, from: position, encoder: encoder),
              server.lifecycle.phase != .stopping, server.streamSlots.acquire()
        else { return nil }

        server.metrics.streamOpened(webSocket: false)
        let (server, retry, timeout) = (self.server, configuration.retryMilliseconds, configuration.stuckStreamTimeout)
        return .streaming(HTTPResponse(status: .ok, headerFields: eventStreamHeadFields)) { answer in
            let channel = answer.channel
            let body = EventStreamBody(
                server: server, topic: topic, encoder: encoder, compressed: false, groupCommits: nil, tokenDeadline: nil,
                channel: channel, deadline: StreamWriteDeadline(channel: channel, timeout: timeout, server: server))
            var output = EventStreamOutput(compressed: false)
            body.begin(from: tail, retryMilliseconds: retry, output: &output)
            let first = output.take()
            // Caught up: the first bytes now, then into the live fan-out with no task.
            if body.joinsLiveFanout, tail.isCaughtUp, answer.writeNow(ByteBuffer(bytes: first)) {
                if body.joinDetached(at: tail.position, answer: answer) { return }
                // The hub is elsewhere: the stream goes on as the route's does, in a task.
                return answer.resume(flushesEachWrite: true) { writer in
                    var output = EventStreamOutput(compressed: false)
                    try await body.run(from: tail, output: &output, writer: &writer)
                }
            }
            // Records to replay first (or a closed connection, which the first write finds).
            answer.resume(flushesEachWrite: true) { writer in
                var output = EventStreamOutput(compressed: false)
                do {
                    try await body.deadline.write(first, to: &writer)
                } catch {
                    body.ended()
                    throw error
                }
                try await body.run(from: tail, output: &output, writer: &writer)
            }
        }
    }

    /// Where a stream starts when that is known without a wait, as ``resolveStreamStart(_:_:query:cursorParameter:creatingTopic:)``
    /// finds it: the cursor when there is one, else `from` (default `latest`); `nil` for a
    /// cursor or `from` the route refuses, and for `from=time:` (a lookup in the time indexes).
    private func streamPosition(_ cursor: String?, from: Substring?, in topic: Topic) -> TopicPosition? {
        if let cursor {
            guard let position = TopicPosition(parsing: cursor) else { return nil }
            let count = topic.partitionCount
            let taken = topic.hasGrown ? topic.createdPartitionCount...count : count...count
            return taken.contains(position.partitionCount) ? position : nil
        }
        // Without `from=`, the latest; `parseFetchOffset` reads a missing value as `earliest`.
        let parsed: FetchOffset? = from == nil ? .latest : Self.parseFetchOffset(from)
        let start: StartPosition
        switch parsed {
        case .earliest?: start = .earliest
        case .latest?: start = .latest
        case .offset(let offset)?: start = .offset(Offset(offset))
        case .time?, nil: return nil
        }
        return topic.positionNow(for: start)
    }

    /// The `{topic}` of a path that is exactly `/v1/topics/{topic}/events` (no trailing slash, a
    /// non-empty name without `/`), still percent-encoded.
    static func streamTopic(inPath path: String.UTF8View) -> Substring? {
        topic(inPath: path, before: "/events")
    }
}
