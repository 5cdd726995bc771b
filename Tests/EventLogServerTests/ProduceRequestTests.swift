@testable import EventLog
@testable import EventLogServer
import EventLogJSON
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The produce request path: one grant per request, records that point into the body, and
/// the same stored bytes as the JSON parser's compact text.
@Suite("Produce request path", .serialized)
struct ProduceRequestTests {
    @Test func aProduceVerifiesItsTokenOnce() async throws {
        try await withTestServer(configure: { $0.authTokens = ["secret-token"] }) { client, server in
            let authenticator = try #require(server.authenticator)
            var headers = jsonHeaders
            headers[.authorization] = "Bearer secret-token"
            headers[HTTPField.Name("Idempotency-Key")!] = "once"
            let before = authenticator.verifications
            // Auto-creation, the write check and the idempotency key's caller all need the grant.
            try await client.execute(uri: "/v1/topics/fresh/records", method: .post, headers: headers,
                                     body: jsonBody(#"{"records": [{"value": 1}]}"#)) {
                #expect($0.status == .ok)
            }
            #expect(authenticator.verifications - before == 1)
        }
    }

    /// Parses `text` as a produce body held by an owner object, as a request's buffer is.
    private func parse(_ text: String) throws -> (records: [ProduceRecord], body: ByteBuffer) {
        let body = ByteBuffer(string: text)
        return (try RecordJSON.parseProduceBody(body), body)
    }

    private func isLent(_ bytes: RecordBytes?) -> Bool {
        guard case .lent? = bytes?.storage else { return false }
        return true
    }

    @Test func compactValuesAndPlainStringsPointIntoTheBody() throws {
        let (records, _) = try parse(#"{"records": [{"key": "k1", "value": {"a":[1,2.50,"x"],"b":null}, "headers": {"type": "t"}}]}"#)
        let record = try #require(records.first?.record)
        #expect(record.value == #"{"a":[1,2.50,"x"],"b":null}"#)
        #expect(record.key == "k1" && record.headers["type"] == "t")
        #expect(isLent(record.value) && isLent(record.key) && isLent(record.headers["type"]))
    }

    @Test(arguments: [
        (#"{"a": 1}"#, #"{"a":1}"#),
        (#"[1, 2]"#, #"[1,2]"#),
        (#""caf\u00e9""#, #""café""#),
        (#""a\/b""#, #""a/b""#),
        (#""\u00E9""#, #""é""#),
        (#""\u001F\n""#, #""\u001f\n""#),
        (#""\ud83d\ude00""#, "\"😀\""),
    ])
    func otherValuesAreStoredAsTheirCompactText(value: String, compact: String) throws {
        let (records, _) = try parse(#"{"records": [{"value": "# + value + "}]}")
        let stored = try #require(records.first?.record.value)
        #expect(stored == RecordBytes(compact))
        #expect(!isLent(stored))
        // The same bytes as the document parser's compact text.
        #expect(Array(stored) == (try JSONParser.parse(Array(value.utf8))).compactBytes)
    }

    @Test func canonicalEscapesStayInPlace() throws {
        let (records, _) = try parse(#"{"records": [{"value": "a\"b\\c\n\u0001"}]}"#)
        let stored = try #require(records.first?.record.value)
        #expect(isLent(stored))
        #expect(Array(stored) == (try JSONParser.parse(Array(#""a\"b\\c\n\u0001""#.utf8))).compactBytes)
    }

    @Test func escapedKeysAreDecoded() throws {
        let (records, _) = try parse(#"{"records": [{"key": "k\u00e9\"", "value": null, "headers": {"h": "x\ty"}}]}"#)
        let record = try #require(records.first?.record)
        #expect(record.key == "ké\"" && record.value == nil && record.headers["h"] == "x\ty")
    }
}
