@testable import EventLogServer
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOTLS
import Testing

/// The choice of a new connection's pipeline (``HTTPVersionSelector``): by ALPN after TLS, else
/// by HTTP/2's preface; for HTTP/1.1, WebSocket-capable only when the first head has an
/// `Upgrade` header. Every byte that came first reaches the chosen pipeline, in order, whatever
/// reads it came in.
@Suite struct HTTPVersionSelectorTests {
    /// Collects the bytes that reach the chosen pipeline.
    final class Received: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var bytes: [UInt8] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += unwrapInboundIn(data).readableBytesView
        }
    }

    struct Outcome {
        /// `h2`, `http/1.1` or `http/1.1+upgrade`; `nil` while undecided.
        var version: String?
        var failed = false
        var received: [UInt8]
        var selectorLeft: Bool
        var closed = false
        /// Whether the selector was freed once the connection was over: nothing (a closure
        /// kept by the pipeline, a cycle through its context) holds it past its channel.
        var selectorFreed = false
    }

    /// Runs one connection through a selector, then checks that nothing keeps it alive.
    func connect(tls: Bool = false, event: TLSUserEvent? = nil, sending chunks: [String], then inbound: (any Sendable)? = nil,
                 close: Bool = false, maxHeadBytes: Int = 1024) throws -> Outcome {
        weak var selector: HTTPVersionSelector<String, String>?
        var outcome = try run(tls: tls, event: event, sending: chunks, then: inbound, close: close, maxHeadBytes: maxHeadBytes) { selector = $0 }
        outcome.selectorFreed = selector == nil
        return outcome
    }

    private func run(tls: Bool, event: TLSUserEvent?, sending chunks: [String], then inbound: (any Sendable)?, close: Bool,
                     maxHeadBytes: Int, created: (HTTPVersionSelector<String, String>) -> Void) throws -> Outcome {
        let channel = EmbeddedChannel()
        let received = Received()
        let promise = channel.eventLoop.makePromise(of: NegotiatedHTTPVersion<String, String>.self)
        func configure(_ name: String) -> (any Channel) -> EventLoopFuture<String> {
            { channel in
                do { try channel.pipeline.syncOperations.addHandler(received) } catch { return channel.eventLoop.makeFailedFuture(error) }
                return channel.eventLoop.makeSucceededFuture(name)
            }
        }
        // As the server does: the plain pipeline set up in place, the upgrade's once a future completes.
        func configureInPlace(_ name: String, _ channel: any Channel) -> PipelineSetUp<String> {
            do { try channel.pipeline.syncOperations.addHandler(received) } catch { return .failed(error) }
            return .done(name)
        }
        let selector = HTTPVersionSelector<String, String>(
            tls: tls, maxHeadBytes: maxHeadBytes, chosen: { promise.completeWith($0) },
            configureHTTP1: { upgrade, channel in
                upgrade ? .pending(configure("http/1.1+upgrade")(channel)) : configureInPlace("http/1.1", channel)
            },
            configureHTTP2: configure("h2"))
        created(selector)
        try channel.pipeline.syncOperations.addHandler(selector)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var outcome = Outcome(received: [], selectorLeft: false)
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success(.http1(let name)), .success(.http2(let name)): outcome.version = name
            case .failure: outcome.failed = true
            }
        }
        if let event { channel.pipeline.fireUserInboundEventTriggered(event) }
        for chunk in chunks { try channel.writeInbound(ByteBuffer(string: chunk)) }
        if let inbound { channel.pipeline.fireUserInboundEventTriggered(inbound) }
        channel.embeddedEventLoop.run()
        outcome.closed = !channel.isActive
        if close { _ = try? channel.close().wait() }
        outcome.received = received.bytes
        outcome.selectorLeft = (try? channel.pipeline.syncOperations.handler(type: HTTPVersionSelector<String, String>.self)) == nil
        let result = outcome
        // Closes the channel and runs what its close scheduled (the handlers' removal): an
        // embedded channel left open, or closed with its loop not run, keeps its pipeline.
        _ = try channel.finish(acceptAlreadyClosed: true)
        return result
    }

    /// `text` in reads of `size` bytes.
    static func cut(_ text: String, every size: Int) -> [String] {
        let bytes = Array(text.utf8)
        return stride(from: 0, to: bytes.count, by: size).map { String(decoding: bytes[$0..<min($0 + size, bytes.count)], as: UTF8.self) }
    }

    static let preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    @Test func thePrefaceChoosesHTTP2EvenInPieces() throws {
        let frames = "\u{0}\u{0}\u{0}\u{4}\u{0}\u{0}\u{0}\u{0}\u{0}"  // an empty SETTINGS frame
        let outcome = try connect(sending: ["PRI * HT", "TP/2.0\r\n\r\nSM\r", "\n\r\n" + frames])
        #expect(outcome.version == "h2")
        #expect(outcome.received == Array((Self.preface + frames).utf8))
        #expect(outcome.selectorLeft)
        #expect(outcome.selectorFreed)
    }

    @Test(arguments: [1, 2, 3, 5, 17, 1000])
    func aPlainHeadInAnyPiecesIsHTTP1OnceWhole(cut: Int) throws {
        // `PRI * HTTP/1.1` follows the preface for 10 bytes: the head is looked at from its first byte.
        for request in ["GET /v1/topics/t/events HTTP/1.1\r\nHost: x\r\n\r\n", "PRI * HTTP/1.1\r\n\r\n"] {
            let outcome = try connect(sending: Self.cut(request + "GET /healthz HTTP/1.1\r\n", every: cut))
            #expect(outcome.version == "http/1.1")
            #expect(outcome.received == Array((request + "GET /healthz HTTP/1.1\r\n").utf8))
            #expect(outcome.selectorLeft)
            #expect(outcome.selectorFreed)
        }
    }

    @Test("an Upgrade header in any case, in a head cut anywhere", arguments: [1, 2, 3, 5, 17, 1000])
    func anUpgradeHeaderChoosesTheWebSocketPipeline(cut: Int) throws {
        let request = "GET /v1/topics/t/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpGrAdE: websocket\r\n\r\n"
        let outcome = try connect(sending: Self.cut(request, every: cut))
        #expect(outcome.version == "http/1.1+upgrade")
        #expect(outcome.received == Array(request.utf8))
        #expect(outcome.selectorFreed)
    }

    @Test func aHeaderThatOnlyMentionsUpgradeIsNoUpgrade() throws {
        let outcome = try connect(sending: ["GET /x HTTP/1.1\r\nConnection: upgrade\r\nX-Upgrade: websocket\r\n\r\n"])
        #expect(outcome.version == "http/1.1")
    }

    @Test func anUpgradeHeaderInTheBodyIsNoUpgrade() throws {
        let outcome = try connect(sending: ["POST /x HTTP/1.1\r\nContent-Length: 20\r\n\r\n\r\nUpgrade: websocket"])
        #expect(outcome.version == "http/1.1")
    }

    @Test func aHeadNotWholeYetWaits() throws {
        let outcome = try connect(sending: ["GET /x HTTP/1.1\r\nHost: x\r\n"])
        #expect(outcome.version == nil && !outcome.failed)
        #expect(outcome.received.isEmpty)
        #expect(!outcome.selectorLeft)
        #expect(outcome.selectorFreed)
    }

    @Test func aHeadOverTheLimitGoesToThePlainPipeline() throws {
        let outcome = try connect(sending: ["GET /x HTTP/1.1\r\n", String(repeating: "A", count: 100)], maxHeadBytes: 64)
        #expect(outcome.version == "http/1.1")
        #expect(outcome.received.count == 17 + 100)
    }

    @Test func aConnectionThatClosesMidPrefaceChoosesNothing() throws {
        let outcome = try connect(sending: ["PRI * HTTP/2"], close: true)
        #expect(outcome.version == nil && outcome.failed)
        #expect(outcome.received.isEmpty)
        #expect(outcome.selectorFreed)
    }

    @Test("shutting down, or the client shutting its side, before a request closes the connection",
          arguments: [[], ["PRI * HTTP/2"], ["GET /x HT"]])
    func anEndBeforeARequestClosesTheConnection(sent: [String]) throws {
        for event: any Sendable in [ChannelShouldQuiesceEvent(), ChannelEvent.inputClosed] {
            let outcome = try connect(sending: sent, then: event)
            #expect(outcome.version == nil)
            #expect(outcome.closed)
            #expect(outcome.selectorFreed)
        }
    }

    @Test(arguments: [("h2", "h2"), ("http/1.1", "http/1.1")])
    func alpnDecidesOverTLS(negotiated: String, version: String) throws {
        let request = negotiated == "h2" ? "GET / HTTP/1.1\r\n" : "GET / HTTP/1.1\r\n\r\n"
        let outcome = try connect(tls: true, event: .handshakeCompleted(negotiatedProtocol: negotiated), sending: [request])
        #expect(outcome.version == version)
        #expect(outcome.received == Array(request.utf8))
        #expect(outcome.selectorFreed)
    }

    @Test func withoutALPNTheBytesDecideOverTLSToo() throws {
        let outcome = try connect(tls: true, event: .handshakeCompleted(negotiatedProtocol: nil), sending: [Self.preface])
        #expect(outcome.version == "h2")
        #expect(outcome.selectorFreed)
        let nothingYet = try connect(tls: true, sending: [])
        #expect(nothingYet.version == nil && !nothingYet.failed)
        #expect(nothingYet.selectorFreed)
    }
}

/// The conversion of requests to HTTP types (``HTTP1TypesCodec``): the library's result for
/// every request target, whether taken as it is (origin form) or parsed by the library.
@Suite struct HTTP1TypesCodecTests {
    @Test(arguments: [
        "/", "/v1/topics/bench/events?from=latest", "/v1/topics/a%20b/events?last_event_id=3,4#x", "//double/slash",
        "/?", "/a?b=c&d", "http://example.com/v1/topics?x=1", "HTTP://example.com", "http://example.com", "*",
        "example.com:443",
    ])
    func aRequestIsTheLibrarysWhateverItsTarget(target: String) throws {
        var headers = HTTPHeaders([("Host", "example.com:8080"), ("Accept", "text/event-stream"), ("Cookie", "a=1; b=2")])
        headers.add(name: "X-Twice", value: "1")
        headers.add(name: "X-Twice", value: "2")
        for secure in [false, true] {
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
            let ours = try HTTP1TypesCodec.request(head, secure: secure)
            let library = try HTTPRequest(head, secure: secure, splitCookie: false)
            #expect(ours == library)
            #expect(ours.path == library.path && ours.authority == library.authority && ours.scheme == library.scheme)
        }
    }

    @Test func aRequestWithoutHostOrWithAnUnknownMethodIsTheLibrarys() throws {
        let head = HTTPRequestHead(version: .http1_1, method: .RAW(value: "PURGE"), uri: "/x", headers: [:])
        #expect(try HTTP1TypesCodec.request(head, secure: false) == HTTPRequest(head, secure: false, splitCookie: false))
    }
}

/// The TLS certificate and key files (``TLSCredentials``): a file that cannot be used is named
/// with the reason, in one sentence. (Loading and reloading real certificates is tested against
/// the real server: Tests/e2e/test_tls_http2.py.)
@Suite struct TLSCredentialsTests {
    @Test func unusableFilesAreNamedWithTheReason() throws {
        let directory = NSTemporaryDirectory() + "logd-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let garbage = directory + "/garbage.pem"
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let logger = Logger(label: "test")

        #expect(throws: ConfigurationError("cannot read \(directory)/absent.pem: No such file or directory.")) {
            try TLSCredentials(certificatePath: directory + "/absent.pem", keyPath: garbage, logger: logger)
        }
        #expect(throws: ConfigurationError("cannot read \(directory): Is a directory.")) {
            try TLSCredentials(certificatePath: directory, keyPath: garbage, logger: logger)
        }
        do {
            _ = try TLSCredentials(certificatePath: garbage, keyPath: garbage, logger: logger)
            Issue.record("a file without a certificate was accepted")
        } catch {
            #expect(error.message.hasPrefix("\(garbage) holds no"))
        }
    }
}
