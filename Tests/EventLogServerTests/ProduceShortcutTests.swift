import EventLog
@testable import EventLogServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// The produce shortcut (Docs/adr/0006-produce-shortcut.md) answers exactly as the router
/// does, and leaves to the router every request it could not answer the same way.
@Suite("Produce shortcut", .serialized)
struct ProduceShortcutTests {
    /// What an answer says, to compare the shortcut's with the router's.
    struct Said: Equatable, CustomStringConvertible {
        var status: Int
        var contentType: String?
        var contentEncoding: String?
        var vary: String?
        var body: [UInt8]

        var description: String { "\(status) \(contentType ?? "-") \(contentEncoding ?? "-") \(String(decoding: body, as: UTF8.self))" }
    }

    static func shortcut(_ server: LogServer, _ method: HTTPRequest.Method = .post, path: String, headers: HTTPFields = jsonHeaders,
                         body: String) -> HTTP1Shortcut? {
        let head = HTTPRequest(method: method, scheme: nil, authority: "localhost", path: path, headerFields: headers)
        return Routes<LogRequestContext>(server: server).produceShortcut(head, body: ByteBuffer(string: body))
    }

    static func said(_ shortcut: HTTP1Shortcut?) async throws -> Said {
        let answer: HTTP1Shortcut.Answer
        switch try #require(shortcut, "the shortcut left the request to the router") {
        case .now(let now): answer = now
        case .later(let later): answer = await later()
        case .gathered(let start): answer = await withCheckedContinuation { c in start { c.resume(returning: $0) } }
        case .streaming(let head, _):
            Issue.record("a produce was answered as a stream")
            answer = .init(head: head, body: ByteBuffer())
        }
        let fields = answer.head.headerFields
        return Said(status: answer.head.status.code, contentType: fields[.contentType], contentEncoding: fields[.contentEncoding],
                    vary: fields[.vary], body: Array(answer.body.readableBytesView))
    }

    static func said(_ response: TestResponse) -> Said {
        Said(status: response.status.code, contentType: response.headers[.contentType],
             contentEncoding: response.headers[.contentEncoding], vary: response.headers[.vary], body: Array(response.body.readableBytesView))
    }

    static func createTopics(_ client: any TestClientProtocol, _ names: [String], _ config: String) async throws {
        for name in names {
            try await client.execute(uri: "/v1/topics/\(name)", method: .put, headers: jsonHeaders, body: jsonBody(config)) {
                #expect($0.status == .created)
            }
        }
    }

    /// The same requests to twin topics, one through the router and one through the shortcut:
    /// the same answers, the same records stored.
    @Test(arguments: ["none", "fsync"])
    func theShortcutAnswersAsTheRouterDoes(durability: String) async throws {
        try await withTestServer { client, server in
            try await Self.createTopics(client, ["viaRouter", "viaShortcut"], #"{"partitions": 3, "durability": "\#(durability)"}"#)
            var gzip = jsonHeaders
            gzip[.acceptEncoding] = "gzip"
            var raw = HTTPFields()
            raw[.contentType] = "text/plain"
            let many = "[" + (0..<60).map { #"{"key": "k", "value": \#($0)}"# }.joined(separator: ",") + "]"
            let requests: [(headers: HTTPFields, body: String)] = [
                (jsonHeaders, #"{"records": [{"value": {"a": 1}}]}"#),
                (jsonHeaders, #"{"records": [{"value": 1}, {"value": 2}]}"#),
                (jsonHeaders, #"{"records": [{"key": "user-7", "value": "x", "headers": {"type": "t"}}]}"#),
                (jsonHeaders, #"{"records": [{"partition": 2, "value": null}]}"#),
                (raw, "raw bytes \u{1}"),
                (HTTPFields(), ""),
                (gzip, #"{"records": \#(many)}"#),
                (gzip, #"{"records": [{"value": 1}]}"#),
            ]
            for request in requests {
                let viaShortcut = try await Self.said(Self.shortcut(server, path: "/v1/topics/viaShortcut/records",
                                                                    headers: request.headers, body: request.body))
                let viaRouter = try await client.execute(uri: "/v1/topics/viaRouter/records", method: .post, headers: request.headers,
                                                         body: ByteBuffer(string: request.body)) { Self.said($0) }
                #expect(viaShortcut == viaRouter, "\(request.body)")
                #expect(viaShortcut.status == 200)
                #expect((viaShortcut.contentEncoding == "gzip") == (request.body.count > 1000))
            }
            let topics = try ["viaRouter", "viaShortcut"].map { try #require(server.store.topic(named: $0)) }
            for (a, b) in zip(topics[0].partitions, topics[1].partitions) {
                let (left, right) = (try await a.read(from: 0, maxRecords: 1000).records, try await b.read(from: 0, maxRecords: 1000).records)
                #expect(left.map(\.value) == right.map(\.value) && left.map(\.key) == right.map(\.key))
                #expect(left.map { $0.headers["type"] } == right.map { $0.headers["type"] })
            }
        }
    }

    /// Every request the router would answer otherwise (or with more work) is left to it, and
    /// nothing is appended.
    @Test func requestsItCannotAnswerTheSameWayAreLeftToTheRouter() async throws {
        try await withTestServer(configure: { $0.maxBodyBytes = 1000 }) { client, server in
            try await Self.createTopics(client, ["t"], #"{"partitions": 2, "durability": "none"}"#)
            var keyed = jsonHeaders
            keyed[HTTPField.Name("Idempotency-Key")!] = "k1"
            let one = #"{"records": [{"value": 1}]}"#
            let left: [(method: HTTPRequest.Method, path: String, headers: HTTPFields, body: String)] = [
                (.post, "/v1/topics/t/records?partition=1", jsonHeaders, one),
                (.post, "/v1/topics/t/records/", jsonHeaders, one),
                (.post, "/v1/topics/t%2Fx/records", jsonHeaders, one),
                (.post, "/v1/topics//records", jsonHeaders, one),
                (.post, "/v1/topics/missing/records", jsonHeaders, one),
                (.post, "/v1/topics/../records", jsonHeaders, one),
                (.put, "/v1/topics/t/records", jsonHeaders, one),
                (.post, "/v1/topics/t/records", keyed, one),
                (.post, "/v1/topics/t/records", jsonHeaders, #"{"records": [{"value": 1}"#),
                (.post, "/v1/topics/t/records", jsonHeaders, #"{"records": []}"#),
                (.post, "/v1/topics/t/records", jsonHeaders, #"{"records": [{"partition": 0, "value": 1}, {"partition": 1, "value": 2}]}"#),
                (.post, "/v1/topics/t/records", jsonHeaders, #"{"records": [{"partition": 2, "value": 1}]}"#),
                (.post, "/v1/topics/t/records", jsonHeaders, #"{"records": [{"value": "\#(String(repeating: "x", count: 1000))"}]}"#),
            ]
            for request in left {
                #expect(Self.shortcut(server, request.method, path: request.path, headers: request.headers, body: request.body) == nil,
                        "\(request.method) \(request.path) \(request.body.prefix(60))")
            }
            let topic = try #require(server.store.topic(named: "t"))
            #expect(topic.partitions.map(\.endOffset) == [0, 0])
            // The control: the same topic, a plain request.
            #expect(try await Self.said(Self.shortcut(server, path: "/v1/topics/t/records", body: one)).status == 200)
        }
    }

    @Test func middlewareThatWouldActLeavesEveryProduceToTheRouter() async throws {
        let one = #"{"records": [{"value": 1}]}"#
        try await withTestServer(configure: { $0.requestsPerSecond = 1000 }) { _, server in
            _ = try await server.store.topic(named: "t", creatingWith: server.store.defaultTopicConfiguration)
            #expect(Self.shortcut(server, path: "/v1/topics/t/records", body: one) == nil)
        }
        try await withTestServer(configure: { $0.corsOrigins = ["https://app.example"] }) { _, server in
            _ = try await server.store.topic(named: "t", creatingWith: server.store.defaultTopicConfiguration)
            var withOrigin = jsonHeaders
            withOrigin[.origin] = "https://app.example"
            #expect(Self.shortcut(server, path: "/v1/topics/t/records", headers: withOrigin, body: one) == nil)
            // Without an Origin the CORS middleware does nothing.
            #expect(Self.shortcut(server, path: "/v1/topics/t/records", body: one) != nil)
        }
    }

    /// With authentication on, the shortcut answers only a bearer token whose grant is known
    /// without a wait and may write the topic: a static token, or a JWT the middleware verified
    /// before. No token, another token, a JWT not seen yet, one that may not write the topic:
    /// the router (and its `401`/`403`).
    @Test func withAuthenticationOnlyKnownTokensThatMayWriteTakeTheShortcut() async throws {
        let writer = try await JWTAuthTests.token(["write": ["t"]])
        let reader = try await JWTAuthTests.token(["read": ["t"]])
        try await withTestServer(configure: JWTAuthTests.configure) { client, server in
            _ = try await server.store.topic(named: "t", creatingWith: server.store.defaultTopicConfiguration)
            let one = #"{"records": [{"value": 1}]}"#
            func viaShortcut(_ headers: HTTPFields) -> HTTP1Shortcut? {
                Self.shortcut(server, path: "/v1/topics/t/records", headers: headers, body: one)
            }
            #expect(viaShortcut(jsonHeaders) == nil)
            #expect(viaShortcut(JWTAuthTests.bearer("not-a-token")) == nil)
            #expect(viaShortcut([.authorization: "Basic c3RhdGljLWFkbWlu", .contentType: "application/json"]) == nil)
            #expect(try await Self.said(viaShortcut(JWTAuthTests.bearer("static-admin"))).status == 200)
            // A JWT is verified by the middleware first; once known, its next produce takes the shortcut.
            #expect(viaShortcut(JWTAuthTests.bearer(writer)) == nil)
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: JWTAuthTests.bearer(writer), body: jsonBody(one)) {
                #expect($0.status == .ok)
            }
            #expect(try await Self.said(viaShortcut(JWTAuthTests.bearer(writer))).status == 200)
            // Known, but may not write: the router answers 403.
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: JWTAuthTests.bearer(reader), body: jsonBody(one)) {
                #expect($0.status == .forbidden)
            }
            #expect(viaShortcut(JWTAuthTests.bearer(reader)) == nil)
            #expect(server.store.topic(named: "t")?.partitions[0].endOffset == 3)
        }
    }

    /// A failed append is answered as the router answers it, and `/healthz` hears of it.
    @Test func aFailedAppendIsAnsweredAsTheRouterAnswersIt() async throws {
        let faults = FaultInjector()
        try await withTestServer(faults: faults) { client, server in
            try await Self.createTopics(client, ["viaRouter", "viaShortcut"], #"{"partitions": 1, "durability": "none"}"#)
            faults.fail(.pwrite, errno: ENOSPC, times: 2, pathSuffix: ".log")
            let body = #"{"records": [{"value": 1}]}"#
            let viaShortcut = try await Self.said(Self.shortcut(server, path: "/v1/topics/viaShortcut/records", body: body))
            #expect(server.writeHealth.currentFailure?.reason == .diskFull)
            let viaRouter = try await client.execute(uri: "/v1/topics/viaRouter/records", method: .post, headers: jsonHeaders,
                                                     body: jsonBody(body)) { Self.said($0) }
            #expect(viaShortcut == viaRouter)
            #expect(viaShortcut.status == 507)
            faults.clear()
            #expect(try await Self.said(Self.shortcut(server, path: "/v1/topics/viaShortcut/records", body: body)).status == 200)
            #expect(server.writeHealth.currentFailure == nil)
        }
    }
}
