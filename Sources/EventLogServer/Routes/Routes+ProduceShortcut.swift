import EventLog
import HTTPTypes
import NIOCore

extension Routes {
    /// `POST /v1/topics/{topic}/records` answered without the router, the middleware and (for
    /// a topic whose appends need no sync) a task: on the connection's event loop, as the
    /// request's last byte is read (Docs/adr/0006-produce-shortcut.md).
    ///
    /// It answers only a request the router would answer with the same bytes after the same
    /// work: the path exactly `/v1/topics/{topic}/records` with no query, an existing topic, no
    /// `Idempotency-Key`, a body within ``LogServerConfiguration/maxBodyBytes`` that parses,
    /// every record for one partition, and nothing for the middleware to do but what it does
    /// here: authentication off, or an `Authorization: Bearer` token whose grant is known without
    /// a wait (a static token, a JWT verified before and valid now) and may write the topic; no
    /// rate limit; no `Origin` when CORS origins are set; fewer connections than
    /// ``LogServerConfiguration/maxConnections``. For every other request, and for any error
    /// it finds before appending, it returns `nil` and the router answers (its errors too).
    /// An append that fails is answered here, as the router would: the same error, logged and
    /// counted the same way.
    ///
    /// The caller must have built its router with exactly ``LogServer/addMiddleware(to:)`` and
    /// ``LogServer/addRoutes(to:)``: middleware of its own would not see these requests.
    func produceShortcut(_ head: HTTPRequest, body: ByteBuffer) -> HTTP1Shortcut? {
        guard head.method == .post, let path = head.path else { return nil }
        let fields = head.headerFields
        guard fields[idempotencyKeyField] == nil else { return nil }
        return produceShortcut(path: path, contentType: fields[.contentType], authorization: fields[.authorization],
                               acceptEncoding: fields[.acceptEncoding], hasOrigin: fields[.origin] != nil, body: body)
    }

    /// The same for a request parsed in front of NIO's decoder (``HTTP1FrontLane``, which
    /// declines any request with an `Idempotency-Key`).
    func produceShortcut(_ request: HTTP1FrontRequest, body: ByteBuffer) -> HTTP1Shortcut? {
        produceShortcut(path: request.target, contentType: request.contentType, authorization: request.authorization,
                        acceptEncoding: request.acceptEncoding, hasOrigin: request.hasOrigin, body: body)
    }

    /// A `POST` to `path` without an `Idempotency-Key`, with these fields.
    private func produceShortcut(path: String, contentType: String?, authorization: String?, acceptEncoding: String?,
                                 hasOrigin: Bool, body: ByteBuffer) -> HTTP1Shortcut? {
        guard let rawName = Self.produceTopic(inPath: path.utf8), server.rateLimiter == nil else { return nil }
        if !configuration.corsOrigins.isEmpty, hasOrigin { return nil }
        if let limit = configuration.maxConnections, server.connections.current > limit { return nil }
        guard body.readableBytes <= configuration.maxBodyBytes,
              let name = percentDecoded(rawName), (try? LogStore.validateTopicName(name)) != nil,
              let topic = store.topic(named: name)
        else { return nil }
        // With authentication on: a token whose grant is known now (a static token, a JWT
        // verified before) that may write the topic; any other goes through the middleware.
        if let authenticator = server.authenticator {
            guard let grant = authenticator.knownGrant(authorization: authorization),
                  grant.scope.allows(.write, topic: name)
            else { return nil }
        }

        let records: [ProduceRecord]
        if let contentType, isJSONMediaType(contentType.utf8) {
            guard let parsed = try? RecordJSON.parseProduceBody(body) else { return nil }
            records = parsed
        } else {
            records = [RawProduceParameters().record(value: body)]
        }
        guard let assignment = try? partitions(of: records, in: topic, idempotent: nil), let index = assignment.first,
              assignment.allSatisfy({ $0 == index }),
              let batch = try? topic.partitions[index].encode(records.map(\.record))
        else { return nil }

        let partition = topic.partitions[index]
        let gzip = acceptsGzip(acceptEncoding)
        if let gathering = ProduceGathering.current {
            // Appended with the other produces of this loop's pass, then answered on the loop.
            return .gathered { [self] answer in
                gathering.value.append(batch, to: partition) { [self] result in
                    server.writeHealth.note(result, topic: name, partition: index)
                    switch result {
                    case .success(let range): answer(produced(records, partition: index, range: range, topic: name, gzip: gzip))
                    case .failure(let error): answer(failed(error, path: path))
                    }
                }
            }
        }
        do {
            if let range = try server.writeHealth.trackNow(topic: name, partition: index, { try partition.appendNow(encoded: batch) }) {
                return .now(produced(records, partition: index, range: range, topic: name, gzip: gzip))
            }
        } catch {
            return .now(failed(error, path: path))
        }
        // The topic syncs its appends (or its writer is busy): the answer waits in a task.
        return .later { [self] in
            do {
                let range = try await server.writeHealth.track(topic: name, partition: index) { try await partition.append(encoded: batch) }
                return produced(records, partition: index, range: range, topic: name, gzip: gzip)
            } catch {
                return failed(error, path: path)
            }
        }
    }

    /// The `{topic}` of a path that is exactly `/v1/topics/{topic}/records` (no query, no
    /// trailing slash, a non-empty name without `/`), still percent-encoded.
    static func produceTopic(inPath path: String.UTF8View) -> Substring? {
        topic(inPath: path, before: "/records")
    }

    /// The `{topic}` of a path that is exactly `/v1/topics/{topic}` and then `suffix` (no query,
    /// no trailing slash, a non-empty name without `/`), still percent-encoded.
    static func topic(inPath path: String.UTF8View, before suffix: StaticString) -> Substring? {
        let prefix = "/v1/topics/".utf8
        let suffix = UnsafeRawBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)
        guard path.count > prefix.count + suffix.count, path.starts(with: prefix),
              path.suffix(suffix.count).elementsEqual(suffix)
        else { return nil }
        let name = path.dropFirst(prefix.count).dropLast(suffix.count)
        guard !name.contains(UInt8(ascii: "/")), !name.contains(UInt8(ascii: "?")), !name.contains(UInt8(ascii: "#")) else { return nil }
        return Substring(name)
    }


    /// The produce's answer, as the route and the gzip middleware make it.
    private func produced(_ records: [ProduceRecord], partition: Int, range: OffsetRange, topic: String, gzip: Bool) -> HTTP1Shortcut.Answer {
        countAppended(records, topic: topic)
        var json = ByteBuffer()
        json.reserveCapacity(24 + 32 * range.count)
        ProduceAnswer.writeJSON(partition: partition, range: range, into: &json)
        guard gzip, json.readableBytes >= GzipJSONMiddleware<Context>.minimumBytes else {
            return HTTP1Shortcut.Answer(head: producedHead, body: json)
        }
        var head = producedHead
        head.headerFields[.contentEncoding] = "gzip"
        head.headerFields[.vary] = "Accept-Encoding"
        return HTTP1Shortcut.Answer(head: head, body: ByteBuffer(bytes: GzipJSONMiddleware<Context>.compressed(Array(json.readableBytesView))))
    }

    /// A failed append's answer, as ``JSONErrorMiddleware`` makes it.
    private func failed(_ error: any Error, path: String) -> HTTP1Shortcut.Answer {
        let apiError = APIError.from(error)
        JSONErrorMiddleware<Context>.report(apiError, for: error, path: path, logger: server.logger, metrics: server.metrics)
        return HTTP1Shortcut.Answer(head: apiError.responseHead, body: ByteBuffer(bytes: apiError.body))
    }
}

/// The head of a produce's answer (before gzip), made once.
private let producedHead = HTTPResponse(status: .ok, headerFields: [.contentType: "application/json"])

/// `Idempotency-Key`, made once (a name made from a string is checked and lowercased).
let idempotencyKeyField = HTTPField.Name("Idempotency-Key")!
