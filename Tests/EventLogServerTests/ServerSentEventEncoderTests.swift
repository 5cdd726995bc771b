import EventLogJSON
import EventLog
@testable import EventLogServer
import Testing

@Suite("SSE framing")
struct ServerSentEventEncoderTests {
    let encoder = ServerSentEventEncoder()

    func frame(_ value: [UInt8]?, type: String? = nil, offset: Int64 = 7) -> String {
        var headers = RecordHeaders()
        if let type { headers.append(name: "type", value: type) }
        let record = StoredRecord(Record(value: value, headers: headers), offset: Offset(offset), timestamp: 0)
        var bytes: [UInt8] = []
        encoder.record(record, cursor: TopicPosition(nextOffsets: [Offset(offset) + 1]), into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("every value shape", arguments: [
        (Array("hello".utf8), "id: 7\ndata: hello\n\n"),
        (Array("a\nb\nc".utf8), "id: 7\ndata: a\ndata: b\ndata: c\n\n"),
        (Array("a\r\nb\rc".utf8), "id: 7\ndata: a\ndata: b\ndata: c\n\n"),
        (Array("trailing\n".utf8), "id: 7\ndata: trailing\ndata: \n\n"),
        ([], "id: 7\ndata: \n\n"),
        (Array(#"{"a":[1,2]}"#.utf8), "id: 7\ndata: {\"a\":[1,2]}\n\n"),
        (Array(#""multi\nline""#.utf8), "id: 7\ndata: \"multi\\nline\"\n\n"),
    ])
    func valueShapes(value: [UInt8], expected: String) {
        #expect(frame(value) == expected)
    }

    @Test func binaryValueIsBase64WithBinaryEvent() {
        #expect(frame([0xFF, 0x00, 0xFE, 0x80]) == "id: 7\nevent: binary\ndata: /wD+gA==\n\n")
    }

    @Test func typedBinaryKeepsItsType() {
        #expect(frame([0xFF, 0x00, 0xFE, 0x80], type: "blob") == "id: 7\nevent: blob\ndata: /wD+gA==\n\n")
    }

    @Test func typeHeaderBecomesEventAfterID() {
        #expect(frame(Array("1".utf8), type: "order.created") == "id: 7\nevent: order.created\ndata: 1\n\n")
    }

    @Test func typeWithNewlineStaysOnItsLine() {
        #expect(frame(Array("1".utf8), type: "a\nb") == "id: 7\nevent: ab\ndata: 1\n\n")
    }

    @Test func tombstoneIsNull() {
        #expect(frame(nil) == "id: 7\ndata: null\n\n")
    }

    @Test func streamPreamble() {
        var bytes: [UInt8] = []
        encoder.retry(milliseconds: 2000, into: &bytes)
        encoder.notice(TopicNotice(kind: .reset, partition: 1, requested: 6, resumedFrom: 0), into: &bytes)
        encoder.checkpoint(TopicPosition(nextOffsets: [2, 0, 0]), into: &bytes)
        encoder.keepalive(into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == """
            retry: 2000

            event: reset
            data: {"partition":1,"requested":6,"resumed_from":0}

            id: 1,-1,-1

            : keepalive


            """)
    }
}

@Suite("JSON and base64")
struct JSONTests {
    @Test(arguments: ["0", "-1.5e3", "\"x\"", "[1,{\"a\":null}]", " {\"a\" : [ true , false ] } ", "\"\\ud83d\\ude00\""])
    func validDocuments(text: String) {
        #expect(JSONParser.isValid(Array(text.utf8)))
    }

    @Test(arguments: ["", "hello", "{", "[1,]", "01", "1.", "\"\\x\"", "{\"a\" 1}", "nul", "1 2", "\"\\udc00\""])
    func invalidDocuments(text: String) {
        #expect(!JSONParser.isValid(Array(text.utf8)))
    }

    @Test func compactTextKeepsOrderAndNumbers() throws {
        let value = try JSONParser.parse(Array(#" {"b": 1.50, "a": [1, 2, {"c": null}], "s": "é\n"} "#.utf8))
        #expect(String(decoding: value.compactBytes, as: UTF8.self) == #"{"b":1.50,"a":[1,2,{"c":null}],"s":"é\n"}"#)
    }

    @Test func base64RoundTrip() {
        for length in 0..<10 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 200) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.decode("***not base64***") == nil)
        #expect(Base64.decode("%%%") == nil)
        #expect(Base64.decode("QQ=a") == nil)
    }
}
