@testable import EventLogServer
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

/// The choice of HTTP version for a new connection (``HTTPVersionSelector``): by ALPN after
/// TLS, else by HTTP/2's preface; every byte that came first reaches the chosen pipeline.
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
        var version: String?
        var failed = false
        var received: [UInt8]
        var selectorLeft: Bool
        /// Whether the selector was freed once the connection was over: nothing (a closure
        /// kept by the pipeline, a cycle through its context) holds it past its channel.
        var selectorFreed = false
    }

    /// Runs one connection through a selector, then checks that nothing keeps it alive.
    func connect(tls: Bool, event: TLSUserEvent? = nil, sending chunks: [String], close: Bool = false) throws -> Outcome {
        weak var selector: HTTPVersionSelector<String, String>?
        var outcome = try run(tls: tls, event: event, sending: chunks, close: close) { selector = $0 }
        outcome.selectorFreed = selector == nil
        return outcome
    }

    private func run(tls: Bool, event: TLSUserEvent?, sending chunks: [String], close: Bool,
                     created: (HTTPVersionSelector<String, String>) -> Void) throws -> Outcome {
        let channel = EmbeddedChannel()
        let received = Received()
        let promise = channel.eventLoop.makePromise(of: NegotiatedHTTPVersion<String, String>.self)
        func configure(_ name: String) -> (any Channel) -> EventLoopFuture<String> {
            { channel in
                do { try channel.pipeline.syncOperations.addHandler(received) } catch { return channel.eventLoop.makeFailedFuture(error) }
                return channel.eventLoop.makeSucceededFuture(name)
            }
        }
        let selector = HTTPVersionSelector<String, String>(
            tls: tls, promise: promise, configureHTTP1: configure("http/1.1"), configureHTTP2: configure("h2"))
        created(selector)
        try channel.pipeline.syncOperations.addHandler(selector)
        var outcome = Outcome(received: [], selectorLeft: false)
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success(.http1(let name)), .success(.http2(let name)): outcome.version = name
            case .failure: outcome.failed = true
            }
        }
        if let event { channel.pipeline.fireUserInboundEventTriggered(event) }
        for chunk in chunks { try channel.writeInbound(ByteBuffer(string: chunk)) }
        if close { _ = try? channel.close().wait() }
        outcome.received = received.bytes
        outcome.selectorLeft = (try? channel.pipeline.syncOperations.handler(type: HTTPVersionSelector<String, String>.self)) == nil
        let result = outcome
        // Closes the channel and runs what its close scheduled (the handlers' removal): an
        // embedded channel left open, or closed with its loop not run, keeps its pipeline.
        _ = try channel.finish(acceptAlreadyClosed: true)
        return result
    }

    static let preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    @Test func thePrefaceChoosesHTTP2EvenInPieces() throws {
        let frames = "\u{0}\u{0}\u{0}\u{4}\u{0}\u{0}\u{0}\u{0}\u{0}"  // an empty SETTINGS frame
        let outcome = try connect(tls: false, sending: ["PRI * HT", "TP/2.0\r\n\r\nSM\r", "\n\r\n" + frames])
        #expect(outcome.version == "h2")
        #expect(outcome.received == Array((Self.preface + frames).utf8))
        #expect(outcome.selectorLeft)
        #expect(outcome.selectorFreed)
    }

    @Test(arguments: ["GET / HTTP/1.1\r\n\r\n", "G", "PRI * HTTP/1.1\r\n\r\n", "POST /v1/topics/t/records HTTP/1.1\r\n"])
    func anythingElseIsHTTP1FromTheFirstByteThatDiffers(request: String) throws {
        let outcome = try connect(tls: false, sending: [request])
        #expect(outcome.version == "http/1.1")
        #expect(outcome.received == Array(request.utf8))
        #expect(outcome.selectorLeft)
        #expect(outcome.selectorFreed)
    }

    @Test func aConnectionThatClosesMidPrefaceChoosesNothing() throws {
        let outcome = try connect(tls: false, sending: ["PRI * HTTP/2"], close: true)
        #expect(outcome.version == nil && outcome.failed)
        #expect(outcome.received.isEmpty)
        #expect(outcome.selectorFreed)
    }

    @Test(arguments: [("h2", "h2"), ("http/1.1", "http/1.1")])
    func alpnDecidesOverTLS(negotiated: String, version: String) throws {
        let outcome = try connect(tls: true, event: .handshakeCompleted(negotiatedProtocol: negotiated), sending: ["GET / HTTP/1.1\r\n"])
        #expect(outcome.version == version)
        #expect(outcome.received == Array("GET / HTTP/1.1\r\n".utf8))
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
