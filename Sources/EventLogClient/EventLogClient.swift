public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A client of `logd`'s HTTP API (Docs/HTTP-API.md), for services that do not embed the store.
///
/// ```swift
/// let client = EventLogClient(url: "http://127.0.0.1:8080")
/// let positions = try await client.produce([OutgoingRecord(key: "order-42", text: "created")], to: "orders")
/// for try await event in client.records(topic: "orders", from: .earliest) {
///     if case .record(let record) = event { print(record.offset, record.data) }
/// }
/// ```
///
/// Every call is one request (the stream reconnects by itself); errors are
/// ``EventLogClientError`` values carrying the contract's code. It shares one process-wide
/// `HTTPClient` (connections time out after 5 s and are not retried: a server that is not
/// there is an error at once, and the stream retries on its own schedule) unless given its own.
public struct EventLogClient: Sendable {
    /// The server's base URL, without a trailing slash (`http://127.0.0.1:8080`).
    public let url: String
    /// A bearer token (static or JWT), when the server has authentication on.
    public let token: String?
    /// How long a request other than a stream may take, answer included.
    public let requestTimeout: Duration
    let http: HTTPClient

    public init(url: String, token: String? = nil, requestTimeout: Duration = .seconds(60), httpClient: HTTPClient? = nil) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.token = token
        self.requestTimeout = requestTimeout
        self.http = httpClient ?? Self.sharedHTTPClient
    }

    private static let sharedHTTPClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                                     configuration: configuration(readTimeout: nil))

    /// Connections time out after 5 s and are not retried; reads after `readTimeout`.
    static func configuration(readTimeout: TimeAmount?) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: readTimeout))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// `/v1/topics/<name>`: the name percent-encoded as a path segment.
    static func path(_ segments: String...) -> String {
        "/v1/" + segments.map { $0.addingPercentEncoding(withAllowedCharacters: pathSegmentAllowed) ?? $0 }.joined(separator: "/")
    }

    private static let pathSegmentAllowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))

    static func query(_ items: [(String, String?)]) -> String {
        let present = items.compactMap { name, value in
            value.map { name + "=" + ($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? $0) }
        }
        return present.isEmpty ? "" : "?" + present.joined(separator: "&")
    }

    func request(_ method: HTTPMethod, _ pathAndQuery: String, body: String? = nil, contentType: String = "application/json",
                 headers extra: [(String, String)] = []) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url + pathAndQuery)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer " + token) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        return request
    }

    /// Sends `request` and returns the answer's status and body (at most `maxBytes`); a
    /// status outside 2xx becomes the server's error.
    func send(_ request: HTTPClientRequest, maxBytes: Int = 64 << 20) async throws -> (status: Int, body: [UInt8]) {
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            let seconds = Int64(requestTimeout.components.seconds)
            response = try await http.execute(request, timeout: .seconds(max(1, seconds)))
            bytes = try await response.body.collect(upTo: maxBytes)
        } catch {
            throw EventLogClientError.transport(error)
        }
        let status = Int(response.status.code)
        let body = Array(bytes.readableBytesView)
        guard (200..<300).contains(status) else {
            throw Self.error(status: status, body: body, retryAfter: response.headers.first(name: "Retry-After"))
        }
        return (status, body)
    }

    /// The server's JSON error (`{"error": code, "message": sentence}`) as a value.
    static func error(status: Int, body: [UInt8], retryAfter: String?) -> EventLogClientError {
        let json = RawJSON.parse(body)
        guard let code = json?[member: "error"]?.string else {
            return .invalidResponse("status \(status) without a JSON error", status: status)
        }
        return EventLogClientError(code: EventLogClientError.Code(rawValue: code), message: json?[member: "message"]?.string ?? code, status: status,
                                   retryAfterSeconds: retryAfter.flatMap { Int($0) })
    }

    static func parse(_ body: [UInt8], status: Int) throws -> RawJSON {
        guard let json = RawJSON.parse(body) else { throw EventLogClientError.invalidResponse("a body that is not JSON", status: status) }
        return json
    }
}
