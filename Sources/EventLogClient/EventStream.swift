import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where a stream starts.
public enum StreamStart: Sendable, Hashable {
    case earliest
    case latest
    /// The first offset delivered on every partition.
    case offset(Int64)
    /// A cursor a stream gave before (``StreamedRecord/cursor``): the records after it.
    case cursor(String)
    /// Each partition's first record at or after a time: milliseconds since the epoch, or an
    /// ISO 8601 date-time (`2026-12-01T09:00:00Z`), as the server reads `from=time:`.
    case time(String)
}

/// A record delivered by an ``EventStream``.
public struct StreamedRecord: Sendable, Hashable {
    public var partition: Int
    public var offset: Int64
    /// The stream's cursor after this record: resuming from it delivers exactly the records
    /// after this one.
    public var cursor: String
    /// The record's `type` header (`binary` for a value that is not UTF-8 and has no type).
    public var type: String?
    /// The value's text (`null` for a tombstone; base64 when `type` is `binary`).
    public var data: String

    /// The value's bytes: `data` decoded from base64 when `type` is `binary`, else its UTF-8.
    public var valueBytes: [UInt8] {
        if type == "binary", let decoded = Data(base64Encoded: data) { return Array(decoded) }
        return Array(data.utf8)
    }
}

/// Offsets a stream could not deliver, and where it went on.
public struct StreamNotice: Sendable, Hashable {
    public var partition: Int
    public var requested: Int64
    public var resumedFrom: Int64
    /// `damaged` when stored data could not be read; `nil` when records were deleted
    /// (a gap) or the partition is behind the cursor (a reset).
    public var reason: String?
}

/// What an ``EventStream`` yields.
public enum StreamEvent: Sendable, Hashable {
    /// The next record, in order per partition, each exactly once across reconnections.
    case record(StreamedRecord)
    /// Records before `resumedFrom` are gone (retention) or unreadable (`reason` damaged).
    case gap(StreamNotice)
    /// The partition's end is behind the cursor (the topic was deleted and made again).
    case reset(StreamNotice)
    /// The connection ended; the stream reconnects after `delay`, resuming from its cursor.
    case reconnecting(delay: Duration, error: EventLogClientError?)
    /// The token the stream was opened with has expired; the stream ends. Open a new one
    /// with a fresh token from `.cursor(cursor)`.
    case tokenExpired(cursor: String)
}

/// `GET /v1/topics/{topic}/events` as an `AsyncSequence` that reconnects by itself.
///
/// After a dropped connection, a server restart or a stream the server ended (too many
/// streams, shutting down), it waits the server's `retry:` (doubling on each failure in a
/// row, up to 30 s, with jitter) and reconnects with `Last-Event-ID`: nothing is lost or
/// repeated. A request that can never succeed (`400`, `401`, `403`, `404`) ends it with
/// the server's error. Reading is pulled by the consumer: the client holds at most what
/// the connection buffers.
public struct EventStream: AsyncSequence, Sendable {
    public typealias Element = StreamEvent

    let client: EventLogClient
    let topic: String
    let start: StreamStart
    let group: String?

    public func makeAsyncIterator() -> Iterator {
        Iterator(client: client, topic: topic, start: start, group: group)
    }

    /// Reads the stream; see ``EventStream``.
    public struct Iterator: AsyncIteratorProtocol {
        let client: EventLogClient
        let topic: String
        let start: StreamStart
        let group: String?
        /// The cursor of the last record (or checkpoint) seen: where a reconnection resumes.
        public private(set) var cursor: String?
        private var body: HTTPClientResponse.Body.AsyncIterator?
        private var parser = ServerSentEventParser()
        private var pending: [StreamEvent] = []
        private var failuresInARow = 0
        /// Set after a failure: how long to wait before reconnecting (once `.reconnecting` is out).
        private var delayBeforeConnecting: Duration?
        private var ended = false

        init(client: EventLogClient, topic: String, start: StreamStart, group: String?) {
            self.client = client
            self.topic = topic
            self.start = start
            self.group = group
            if case .cursor(let c) = start { cursor = c }
        }

        public mutating func next() async throws -> StreamEvent? {
            while true {
                if !pending.isEmpty { return pending.removeFirst() }
                if ended || Task.isCancelled { return nil }
                if let delay = delayBeforeConnecting {
                    delayBeforeConnecting = nil
                    do { try await Task.sleep(for: delay) } catch { return nil }
                }
                guard var current = body else {
                    do {
                        body = try await connect()
                    } catch let error as EventLogClientError where error.isRetryable || error.status == 408 {
                        pauseBeforeReconnecting(error)
                    }
                    continue
                }
                do {
                    guard let chunk = try await current.next() else {
                        body = nil  // the server ended the stream: come back after retry:
                        pauseBeforeReconnecting(nil)
                        continue
                    }
                    body = current
                    for event in try parser.feed(chunk.readableBytesView) { handle(event) }
                } catch is CancellationError {
                    return nil
                } catch {
                    body = nil
                    parser = ServerSentEventParser()
                    pauseBeforeReconnecting(.transport(error))
                }
            }
        }

        private mutating func connect() async throws -> HTTPClientResponse.Body.AsyncIterator {
            var query: [(String, String?)] = [("group", group)]
            var headers: [(String, String)] = [("Accept", "text/event-stream")]
            if let cursor {
                headers.append(("Last-Event-ID", cursor))
            } else {
                switch start {
                case .earliest: query.append(("from", "earliest"))
                case .latest: query.append(("from", "latest"))
                case .offset(let o): query.append(("from", String(o)))
                case .time(let text): query.append(("from", "time:" + text))
                case .cursor: break
                }
            }
            let request = client.request(.GET, EventLogClient.path("topics", topic, "events") + EventLogClient.query(query), headers: headers)
            let response: HTTPClientResponse
            do {
                response = try await client.streamHTTP.execute(request, timeout: .seconds(Int64(client.requestTimeout.components.seconds)))
            } catch {
                throw EventLogClientError.transport(error)
            }
            let status = Int(response.status.code)
            guard status == 200 else {
                let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
                throw EventLogClient.error(status: status, body: body, retryAfter: response.headers.first(name: "Retry-After"))
            }
            parser = ServerSentEventParser()
            return response.body.makeAsyncIterator()
        }

        private mutating func handle(_ event: ServerSentEvent) {
            switch event.type {
            case "gap", "reset":
                guard let data = event.data, let json = RawJSON.parse(Array(data.utf8)),
                      let partition = json[member: "partition"]?.int64, let requested = json[member: "requested"]?.int64,
                      let resumed = json[member: "resumed_from"]?.int64 else { return }
                let notice = StreamNotice(partition: Int(partition), requested: requested, resumedFrom: resumed,
                                          reason: json[member: "reason"]?.string)
                pending.append(event.type == "gap" ? .gap(notice) : .reset(notice))
                return
            case "token_expired":
                let expiredAt = event.data.flatMap { RawJSON.parse(Array($0.utf8))?[member: "cursor"]?.string } ?? cursor ?? ""
                pending.append(.tokenExpired(cursor: expiredAt))
                ended = true
                return
            default:
                break
            }
            guard let id = event.id else { return }
            let previous = cursor
            cursor = id
            failuresInARow = 0  // the server is serving us again
            guard let data = event.data else { return }  // the starting checkpoint
            guard let (partition, offset) = Self.advanced(from: previous, to: id) else { return }
            pending.append(.record(StreamedRecord(partition: partition, offset: offset, cursor: id, type: event.type, data: data)))
        }

        /// The partition whose number moved from `previous` to `current`, and its new offset.
        ///
        /// A cursor gains numbers when its topic grows: the partitions `previous` does not
        /// name were at -1 (nothing delivered there). One that loses numbers names nothing.
        static func advanced(from previous: String?, to current: String) -> (Int, Int64)? {
            let now = current.split(separator: ",", omittingEmptySubsequences: false).map { Int64($0) }
            let before = previous?.split(separator: ",", omittingEmptySubsequences: false).map { Int64($0) }
            if let before, before.count > now.count { return nil }
            for (partition, value) in now.enumerated() {
                guard let value else { return nil }
                guard let before else { return (partition, value) }
                let was: Int64? = partition < before.count ? before[partition] : -1
                if was != value { return (partition, value) }
            }
            return nil
        }

        private mutating func pauseBeforeReconnecting(_ error: EventLogClientError?) {
            failuresInARow += 1
            let base = Double(parser.retryMilliseconds ?? 2000) / 1000
            let backoff = Swift.min(30, base * pow(2, Double(Swift.min(failuresInARow - 1, 10))))
            let delay = Duration.milliseconds(Int64(backoff * Double.random(in: 0.8...1.2) * 1000))
            pending.append(.reconnecting(delay: delay, error: error))
            delayBeforeConnecting = delay
        }
    }
}

extension EventLogClient {
    /// The records of `topic` as they are appended, from `from` (replay, then live), over
    /// Server-Sent Events; with `group`, the server also commits the stream's position for
    /// that group (and a new stream of the group starts from its commit).
    public func records(topic: String, from: StreamStart = .latest, group: String? = nil) -> EventStream {
        EventStream(client: self, topic: topic, start: from, group: group)
    }

    /// Streams use a client whose reads time out after 45 s of silence (three missed
    /// keepalives), so that a dead connection is noticed and resumed.
    var streamHTTP: HTTPClient { Self.streamingClient }

    private static let streamingClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: EventLogClient.configuration(readTimeout: .seconds(45))
    )
}
