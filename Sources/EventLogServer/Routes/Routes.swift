import EventLog
import HTTPTypes
import Hummingbird
import NIOCore

/// The route handlers, one extension per concern (`Routes+Topics.swift`, `Routes+Produce.swift`,
/// `Routes+Groups.swift`, …); each adds its own `add…Routes(to:)`, called from
/// ``LogServer/addRoutes(to:)``.
struct Routes<Context: RequestContext>: Sendable {
    let server: LogServer

    var store: LogStore { server.store }
    var configuration: LogServerConfiguration { server.configuration }

    // MARK: Request helpers

    /// The `{topic}` path parameter, percent-decoded and checked against the naming rule.
    func topicName(_ context: Context) throws -> String {
        guard let raw = context.parameters.get("topic"), let name = percentDecoded(raw) else {
            throw APIError(.invalidTopicName, "The topic name is not valid percent-encoded UTF-8.")
        }
        do {
            try LogStore.validateTopicName(name)
        } catch {
            throw APIError(.invalidTopicName, "Topic names are 1 to 249 characters of [A-Za-z0-9._-], not \".\" or \"..\".")
        }
        return name
    }

    /// What the request's token grants and who sent it: found once per request, by the
    /// authentication middleware; everything, for one caller, when authentication is off.
    func grant(_ request: Request) async throws -> Authenticator.Grant {
        try await server.authenticator?.grant(for: request) ?? .unrestricted
    }

    /// What the request's token may do: everything when authentication is off.
    func access(_ request: Request) async throws -> AccessScope {
        try await grant(request).scope
    }

    /// The `{topic}` path parameter, once the request's token may `action` it (else `403 forbidden`).
    func topicName(_ request: Request, _ context: Context, for action: AccessScope.TopicAction) async throws -> String {
        let name = try topicName(context)
        try await access(request).require(action, topic: name)
        return name
    }

    /// The topic, or `404 topic_not_found`.
    func existingTopic(_ name: String) throws -> Topic {
        guard let topic = store.topic(named: name) else {
            throw APIError(.topicNotFound, "Topic \(name) does not exist.")
        }
        return topic
    }

    /// The topic, created with the server's defaults when it is missing and auto-creation
    /// allows it: on (``LogServerConfiguration/autoCreateTopics``), fewer topics than
    /// ``LogServerConfiguration/autoCreateMaxTopics``, room for its partitions under the
    /// store's ``LogStore/Options/maxPartitions``, and, with authentication on, a caller
    /// that may `manage` the topic. Otherwise `404 topic_not_found`.
    func topicCreatingIfNeeded(_ name: String, for request: Request) async throws -> Topic {
        if let topic = store.topic(named: name) { return topic }
        guard configuration.autoCreateTopics else {
            throw APIError(.topicNotFound, "Topic \(name) does not exist and this server does not create topics on use.")
        }
        if server.authenticator != nil, !(try await access(request)).allows(.manage, topic: name) {
            throw APIError(.topicNotFound, "Topic \(name) does not exist; only a token that may manage it creates it on use.")
        }
        do {
            return try await store.topic(named: name, creatingWith: store.defaultTopicConfiguration,
                                         maxTopics: configuration.autoCreateMaxTopics)
        } catch LogError.Code.topicLimitReached {
            throw APIError(.topicNotFound, "Topic \(name) does not exist, and this server creates topics on use only while it holds fewer than \(configuration.autoCreateMaxTopics ?? 0).")
        } catch LogError.Code.partitionLimitReached {
            throw APIError(.topicNotFound, "Topic \(name) does not exist, and this server holds as many partitions as it allows (--max-partitions): it creates no more topics.")
        }
    }

    /// The request body, at most ``LogServerConfiguration/maxBodyBytes``, else `413 payload_too_large`.
    ///
    /// Kept in the buffer it arrived in: a body that came in one read is not copied (a body
    /// that came in several is gathered into one buffer by Hummingbird's `collect`).
    func collectBody(_ request: Request) async throws -> ByteBuffer {
        let limit = configuration.maxBodyBytes
        // Any declared length over the limit, also one past Int64.max (the HTTP decoder takes
        // lengths up to 2^64 - 1; waiting for such a body would hold the connection for nothing).
        if let length = request.headers[.contentLength], ClientNumber.decimal(length, exceeds: limit) {
            throw APIError(.payloadTooLarge, "The body has \(length) bytes; this server accepts at most \(limit).",
                           headers: [.connection: "close"])
        }
        var request = request
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            // A body without a Content-Length (chunked) that grew past the limit.
            throw APIError(.payloadTooLarge, "The body is larger than the \(limit) bytes this server accepts.",
                           headers: [.connection: "close"])
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.payloadTooLarge, "The body is larger than the \(limit) bytes this server accepts.",
                           headers: [.connection: "close"])
        } catch {
            throw APIError(bodyNotReceived: error)
        }
    }

    /// A `200`-class JSON answer.
    func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Whether the request says its body is JSON (`application/json`, any parameters).
    func isJSON(_ request: Request) -> Bool {
        guard let contentType = request.headers[.contentType] else { return false }
        return isJSONMediaType(contentType.utf8)
    }
}

/// Whether a `Content-Type` value's media type is `application/json` (in any case, with
/// optional spaces around it and parameters after `;`), compared byte by byte: this runs
/// on every produce.
func isJSONMediaType(_ value: String.UTF8View) -> Bool {
    let expected = "application/json".utf8
    let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    var i = value.startIndex
    while i != value.endIndex, isSpace(value[i]) { i = value.index(after: i) }
    for byte in expected {
        guard i != value.endIndex else { return false }
        let lowered = (0x41...0x5A).contains(value[i]) ? value[i] | 0x20 : value[i]
        guard lowered == byte else { return false }
        i = value.index(after: i)
    }
    while i != value.endIndex, isSpace(value[i]) { i = value.index(after: i) }
    return i == value.endIndex || value[i] == UInt8(ascii: ";")
}

/// Decodes `%XX` escapes; `nil` for a malformed escape or bytes that are not UTF-8.
func percentDecoded(_ text: some StringProtocol) -> String? {
    guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
    return percentDecodedBytes(text.utf8).flatMap { String(validating: $0, as: UTF8.self) }
}

/// Decodes `%XX` escapes into the bytes they stand for, whatever those are; `nil` for a
/// malformed escape.
func percentDecodedBytes(_ utf8: some Collection<UInt8>) -> [UInt8]? {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8.count)
    var iterator = utf8.makeIterator()
    func hexValue(_ byte: UInt8?) -> UInt8? {
        guard let byte else { return nil }
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    while let byte = iterator.next() {
        if byte == UInt8(ascii: "%") {
            guard let high = hexValue(iterator.next()), let low = hexValue(iterator.next()) else { return nil }
            bytes.append(high << 4 | low)
        } else {
            bytes.append(byte)
        }
    }
    return bytes
}
