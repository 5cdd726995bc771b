@testable import EventLogServer
import Testing

/// The front lane's parser (``HTTP1FrontParser``): the requests it takes, read as NIO's decoder
/// reads them, and every other declined.
@Suite struct HTTP1FrontParserTests {
    static func parse(_ text: String, maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 64 * 1024) -> HTTP1FrontParser.Parsed? {
        Array(text.utf8).withUnsafeBytes { HTTP1FrontParser.parse($0, maxHeadBytes: maxHeadBytes, maxBodyBytes: maxBodyBytes) }
    }

    static let wrk = "POST /v1/topics/bench/records HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"records\":1}"

    @Test func aPlainProduceIsReadWhole() throws {
        let parsed = try #require(Self.parse(Self.wrk + "POST /next"))
        #expect(parsed.request == HTTP1FrontRequest(target: "/v1/topics/bench/records", contentType: "application/json"))
        #expect(parsed.headLength == Self.wrk.utf8.count - 13)
        #expect(parsed.bodyLength == 13)
    }

    @Test func theFieldsAProduceDependsOnAreKept() throws {
        let text = "POST /v1/topics/t/records HTTP/1.1\r\ncontent-type:  text/plain \t\r\nAUTHORIZATION: Bearer abc\r\n"
            + "Accept-Encoding: gzip, br\r\nOrigin: https://a.example\r\nConnection: Keep-Alive\r\nX-Other: 1\r\n"
            + "Content-Length: 0\r\n\r\n"
        let parsed = try #require(Self.parse(text))
        #expect(parsed.request == HTTP1FrontRequest(target: "/v1/topics/t/records", contentType: "text/plain",
                                                    authorization: "Bearer abc", acceptEncoding: "gzip, br", hasOrigin: true))
        #expect(parsed.headLength == text.utf8.count && parsed.bodyLength == 0)
    }

    /// An event stream's `GET` (Docs/adr/0011-event-streams-in-front-of-the-decoder.md): no
    /// body, its cursor kept; what follows the head is not the lane's to read.
    @Test func aStreamRequestIsReadWithItsCursor() throws {
        let head = "GET /v1/topics/t/events?from=latest HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n"
            + "last-event-id: 4,-1\r\nAuthorization: Bearer abc\r\n\r\n"
        let parsed = try #require(Self.parse(head + "GET /next"))
        #expect(parsed.request == HTTP1FrontRequest(method: .get, target: "/v1/topics/t/events?from=latest",
                                                    authorization: "Bearer abc", lastEventID: "4,-1"))
        #expect(parsed.headLength == head.utf8.count && parsed.bodyLength == 0)
        let plain = try #require(Self.parse("GET /v1/topics/t/events HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(parsed.request.method == .get && plain.request.lastEventID == nil && plain.request.target == "/v1/topics/t/events")
    }

    /// Whatever NIO's decoder might read another way, or the lane must not answer, is declined.
    @Test(arguments: [
        "GET /v1/topics/t/records HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.0\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\n\r\n",  // no Content-Length
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length: 5\r\n\r\nx",  // body not whole
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length: 1\r\n",  // head not whole
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length: +1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length: 1 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length: 1234567890\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nUpgrade: h2c\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nIdempotency-Key: k\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nTE: trailers\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Type: a\r\nContent-Type: b\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nOrigin: a\r\nOrigin: b\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length : 1\r\n\r\nx",  // space before the colon
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length: 1\r\n folded\r\n\r\nx",  // obsolete line folding
        "POST /v1/topics/t/records HTTP/1.1\r\nX-A: a\u{1}b\r\nContent-Length: 1\r\n\r\nx",  // a control byte
        "POST /v1/topics/t/records HTTP/1.1\r\nX-A: caf\u{e9}\r\nContent-Length: 1\r\n\r\nx",  // not ASCII
        "POST /v1/topics/t/records HTTP/1.1\nContent-Length: 1\n\nx",  // bare line feeds
        "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length: 1\r\n\nx",
        "POST http://a/v1/topics/t/records HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",  // absolute form
        "POST  /v1/topics/t/records HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        "POST /v1/topics/t/records  HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        "post /v1/topics/t/records HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        "GET /v1/topics/t/events HTTP/1.1\r\nContent-Length: 0\r\n\r\n",  // a GET with a body's framing
        "GET /v1/topics/t/events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /v1/topics/t/events HTTP/1.1\r\nLast-Event-ID: 1\r\nLast-Event-ID: 2\r\n\r\n",
        "GET /v1/topics/t/events HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "GET /v1/topics/t/events HTTP/1.0\r\n\r\n",
        "GET /v1/topics/t/events HTTP/1.1\r\nHost: a\r\n",  // head not whole
        "get /v1/topics/t/events HTTP/1.1\r\n\r\n",
        "HEAD /v1/topics/t/events HTTP/1.1\r\n\r\n",
        "GETS /v1/topics/t/events HTTP/1.1\r\n\r\n",
        "GET * HTTP/1.1\r\n\r\n",
        "",
    ])
    func everythingElseIsDeclined(_ text: String) {
        #expect(Self.parse(text) == nil)
    }

    @Test func theLimitsAreKept() {
        let text = "POST /v1/topics/t/records HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"
        #expect(Self.parse(text) != nil)
        #expect(Self.parse(text, maxBodyBytes: 9) == nil)
        #expect(Self.parse(text, maxHeadBytes: 40) == nil)
        let manyFields = "POST /v1/topics/t/records HTTP/1.1\r\n" + String(repeating: "X-A: 1\r\n", count: HTTP1FrontParser.maxFields)
            + "Content-Length: 0\r\n\r\n"
        #expect(Self.parse(manyFields) == nil)
    }

    /// Every prefix of a request is not whole: declined, never misread.
    @Test(arguments: [wrk, "GET /v1/topics/t/events?from=latest HTTP/1.1\r\nHost: a\r\nLast-Event-ID: 3\r\n\r\n"])
    func everyPrefixIsDeclined(_ request: String) {
        let utf8 = Array(request.utf8)
        for end in 0..<utf8.count {
            let parsed = Array(utf8[..<end]).withUnsafeBytes { HTTP1FrontParser.parse($0, maxHeadBytes: 16 * 1024, maxBodyBytes: 1024) }
            #expect(parsed == nil, "\(end)")
        }
        #expect(Self.parse(request) != nil)
    }
}
