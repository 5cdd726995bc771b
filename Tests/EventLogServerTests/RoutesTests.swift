import EventLog
@testable import EventLogServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// Runs `body` against the routes of a server over a new store, in-process (no sockets);
/// `faults` makes the store's system calls fail on purpose.
func withTestServer(
    faults: FaultInjector? = nil,
    configure: (inout LogServerConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (any TestClientProtocol, LogServer) async throws -> Void
) async throws {
    try await withTemporaryDirectory { directory in
        let store = try await openStore(directory, faults: faults)
        var configuration = LogServerConfiguration()
        configure(&configuration)
        let server = LogServer(store: store, configuration: configuration, logger: testLogger)
        let router = Router(context: LogRequestContext.self)
        server.addMiddleware(to: router)
        server.addRoutes(to: router)
        let app = Application(router: router)
        server.lifecycleForTesting.markRunning()
        do {
            try await app.test(.router) { client in try await body(client, server) }
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

func jsonBody(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

@Suite("Routes, in-process", .serialized)
struct RoutesTests {
    @Test func createGetListDelete() async throws {
        try await withTestServer { client, _ in
            try await client.execute(uri: "/v1/topics/orders", method: .put, headers: jsonHeaders, body: jsonBody(#"{"partitions": 2}"#)) {
                #expect($0.status == .created)
                #expect($0.text.contains(#""name":"orders""#))
                #expect($0.text.contains(#""durability":"fsync""#))
            }
            try await client.execute(uri: "/v1/topics/orders", method: .put, headers: jsonHeaders, body: jsonBody(#"{"partitions": 2}"#)) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/topics/orders", method: .put, headers: jsonHeaders, body: jsonBody(#"{"partitions": 3}"#)) {
                #expect($0.status == .conflict)
                #expect($0.text.contains(#""error":"topic_exists""#))
            }
            try await client.execute(uri: "/v1/topics", method: .get) {
                #expect($0.text.contains(#""name":"orders""#))
            }
            try await client.execute(uri: "/v1/topics/orders", method: .delete) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/v1/topics/orders", method: .get) {
                #expect($0.status == .notFound)
                #expect($0.text.contains(#""error":"topic_not_found""#))
            }
        }
    }

    @Test(arguments: [#"{"partitions": 0}"#, #"{"durability": "maybe"}"#, #"{"compression": "rar"}"#, #"{"cleanup_policy": "x"}"#])
    func invalidConfig(body: String) async throws {
        try await withTestServer { client, _ in
            try await client.execute(uri: "/v1/topics/t", method: .put, headers: jsonHeaders, body: jsonBody(body)) {
                #expect($0.status == .badRequest)
                #expect($0.text.contains(#""error":"invalid_config""#))
            }
        }
    }

    @Test(arguments: ["a%2Fb", "caf%C3%A9", "a%00b", "a*b", String(repeating: "x", count: 250)])
    func invalidTopicNames(name: String) async throws {
        try await withTestServer { client, _ in
            try await client.execute(uri: "/v1/topics/\(name)", method: .get) {
                #expect($0.status == .badRequest)
                #expect($0.text.contains(#""error":"invalid_topic_name""#))
            }
        }
    }

    @Test func produceThenFetchValueShapes() async throws {
        try await withTestServer { client, _ in
            let body = #"{"records": [{"key": "k", "value": {"b": 1, "a": [true]}, "headers": {"type": "t"}}, {"value_b64": "/wD+"}, {"key": "k"}]}"#
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: jsonHeaders, body: jsonBody(body)) {
                #expect($0.status == .ok)
                #expect($0.text == #"{"offsets":[{"partition":0,"offset":0},{"partition":0,"offset":1},{"partition":0,"offset":2}]}"#)
            }
            try await client.execute(uri: "/v1/topics/t/records?offset=0", method: .get) {
                #expect($0.status == .ok)
                let text = $0.text
                #expect(text.contains(#""key":"k","value":{"b":1,"a":[true]},"headers":{"type":"t"}"#))
                #expect(text.contains(#""value_b64":"/wD+""#))
                #expect(text.contains(#""value":null"#))
                #expect(text.hasSuffix(#""next_offset":3}"#))
            }
        }
    }

    @Test func rawBodyWithKeyAndType() async throws {
        try await withTestServer { client, _ in
            try await client.execute(uri: "/v1/topics/t/records?key=k1&type=greeting", method: .post,
                                     headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hello")) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/topics/t/records?offset=earliest", method: .get) {
                #expect($0.text.contains(#""key":"k1","value_b64":"aGVsbG8=","headers":{"type":"greeting"}"#))
            }
        }
    }

    @Test func badBodiesAndParameters() async throws {
        try await withTestServer { client, _ in
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: jsonHeaders, body: jsonBody("{nope")) {
                #expect($0.status == .badRequest)
                #expect($0.text.contains("invalid_json"))
            }
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: jsonHeaders,
                                     body: jsonBody(#"{"records": [{"value": 1, "key": 17}]}"#)) {
                #expect($0.text.contains("invalid_record"))
            }
            try await client.execute(uri: "/v1/topics/t", method: .put) { #expect($0.status == .created) }
            for (query, code) in [("offset=-1", "invalid_offset"), ("offset=99999999999999999999", "invalid_offset"),
                                  ("limit=0", "invalid_limit"), ("wait_ms=300001", "invalid_wait")] {
                try await client.execute(uri: "/v1/topics/t/records?\(query)", method: .get) {
                    #expect($0.status == .badRequest)
                    #expect($0.text.contains(code))
                }
            }
            try await client.execute(uri: "/v1/topics/t/records?offset=5", method: .get) {
                #expect($0.status == .rangeNotSatisfiable)
                #expect($0.text.contains(#""start_offset":0,"end_offset":0"#))
            }
        }
    }

    @Test func idempotencyKeyAnswersTheFirstAnswerAgain() async throws {
        try await withTestServer { client, _ in
            var headers = jsonHeaders
            headers[HTTPField.Name("Idempotency-Key")!] = "abc"
            for _ in 0..<3 {
                try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: headers,
                                         body: jsonBody(#"{"records": [{"value": 1}, {"value": 2}]}"#)) {
                    #expect($0.text == #"{"offsets":[{"partition":0,"offset":0},{"partition":0,"offset":1}]}"#)
                }
            }
        }
    }

    @Test func bodyLimitIs413() async throws {
        try await withTestServer(configure: { $0.maxBodyBytes = 10 }) { client, _ in
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: [.contentType: "text/plain"],
                                     body: ByteBuffer(string: String(repeating: "x", count: 11))) {
                #expect($0.status == .contentTooLarge)
                #expect($0.text.contains("payload_too_large"))
            }
        }
    }

    @Test func authAndCORS() async throws {
        try await withTestServer(configure: {
            $0.authTokens = ["secret"]
            $0.corsOrigins = ["https://app.example"]
        }) { client, _ in
            try await client.execute(uri: "/v1/topics", method: .get, headers: [.origin: "https://app.example"]) {
                #expect($0.status == .unauthorized)
                #expect($0.headers[.accessControlAllowOrigin] == "https://app.example")
                #expect($0.headers[.accessControlAllowCredentials] == "true")
            }
            try await client.execute(uri: "/v1/topics", method: .get, headers: [.authorization: "Bearer secret"]) {
                #expect($0.status == .ok)
                #expect($0.headers[.accessControlAllowOrigin] == nil)
            }
            try await client.execute(uri: "/v1/topics?access_token=secret", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/topics", method: .get, headers: [.cookie: "a=1; logd_token=secret"]) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/topics", method: .options, headers: [
                .origin: "https://app.example", .accessControlRequestMethod: "POST",
            ]) {
                #expect($0.status == .noContent)
                #expect($0.headers[.accessControlAllowMethods]?.contains("POST") == true)
            }
        }
    }

    @Test func unknownRouteIsJSON404() async throws {
        try await withTestServer { client, _ in
            try await client.execute(uri: "/nope", method: .get) {
                #expect($0.status == .notFound)
                #expect($0.text.contains(#""error":"not_found""#))
            }
        }
    }

    @Test func healthAndMetrics() async throws {
        try await withTestServer { client, server in
            try await client.execute(uri: "/v1/topics/m/records", method: .post, headers: jsonHeaders,
                                     body: jsonBody(#"{"records": [{"value": 1}]}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) {
                #expect($0.text.contains(#"eventlog_appended_records_total{topic="m"} 1"#))
                #expect($0.text.contains("eventlog_stream_read_cache_hits 0"))
                #expect($0.text.contains("eventlog_stream_read_cache_misses 0"))
            }
            server.beginStopping()
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .serviceUnavailable) }
        }
    }

    @Test func streamStartsWithRetryThenCheckpointThenRecords() async throws {
        try await withTestServer { client, server in
            try await client.execute(uri: "/v1/topics/s/records", method: .post, headers: jsonHeaders,
                                     body: jsonBody(#"{"records": [{"value": "a\nb"}, {"value_b64": "/w=="}]}"#)) { _ in }
            // The stream ends once the server stops; stop it as soon as the backlog is out.
            Task {
                try await Task.sleep(for: .milliseconds(300))
                server.beginStopping()
            }
            try await client.execute(uri: "/v1/topics/s/events?from=earliest", method: .get) {
                #expect($0.status == .ok)
                #expect($0.headers[.contentType]?.hasPrefix("text/event-stream") == true)
                #expect($0.text == "retry: 2000\n\nid: -1\n\nid: 0\ndata: \"a\\nb\"\n\nid: 1\nevent: binary\ndata: /w==\n\n")
            }
        }
    }

    @Test(arguments: ["abc", "", "1,2", "-2"])
    func malformedCursorIs400(cursor: String) async throws {
        try await withTestServer { client, _ in
            try await client.execute(uri: "/v1/topics/s", method: .put) { _ in }
            try await client.execute(uri: "/v1/topics/s/events", method: .get,
                                     headers: [HTTPField.Name("Last-Event-ID")!: cursor]) {
                #expect($0.status == .badRequest)
                #expect($0.text.contains("invalid_last_event_id"))
            }
        }
    }
}

/// The produce routes' `Content-Type` check, byte by byte.
@Suite struct JSONMediaTypeTests {
    @Test(arguments: ["application/json", "Application/JSON", "application/json; charset=utf-8", "  application/json  ",
                      "application/json;", "APPLICATION/JSON\t; x=y"])
    func jsonIsRecognised(value: String) {
        #expect(isJSONMediaType(value.utf8))
    }

    @Test(arguments: ["", "application/jso", "application/jsonx", "application/json x", "text/json", "application/ json",
                      "application/x-ndjson", "; application/json"])
    func anythingElseIsNot(value: String) {
        #expect(!isJSONMediaType(value.utf8))
    }
}
