@testable import EventLogServer
import NIOCore
import NIOEmbedded
import Testing

/// The choice of HTTP/1.1 pipeline by the first request head (``FirstRequestSniffer``): the
/// WebSocket-capable one only when the head has an `Upgrade` header; every byte held reaches
/// the chosen pipeline, in order.
@Suite struct FirstRequestSnifferTests {
    struct Outcome {
        var upgrade: Bool?
        var received: [UInt8]
        var snifferLeft: Bool
        var closed: Bool
    }

    func sniff(_ reads: [String], maxHeadBytes: Int = 1024, event: (any Sendable)? = nil) throws -> Outcome {
        let channel = EmbeddedChannel()
        let received = HTTPVersionSelectorTests.Received()
        let promise = channel.eventLoop.makePromise(of: Bool.self)
        let sniffer = FirstRequestSniffer<Bool>(maxHeadBytes: maxHeadBytes, promise: promise) { upgrade, channel in
            do {
                try channel.pipeline.syncOperations.addHandler(received)
                return channel.eventLoop.makeSucceededFuture(upgrade)
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        try channel.pipeline.syncOperations.addHandler(sniffer)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var upgrade: Bool?
        promise.futureResult.assumeIsolated().whenSuccess { upgrade = $0 }
        for read in reads { try channel.writeInbound(ByteBuffer(string: read)) }
        if let event { channel.pipeline.fireUserInboundEventTriggered(event) }
        channel.embeddedEventLoop.run()
        let left = (try? channel.pipeline.syncOperations.handler(type: FirstRequestSniffer<Bool>.self)) == nil
        let closed = !channel.isActive
        // Finished even when closed, so that the pipeline is freed (LeakSanitizer sees it otherwise).
        _ = try? channel.finish(acceptAlreadyClosed: true)
        return Outcome(upgrade: upgrade, received: received.bytes, snifferLeft: left, closed: closed)
    }

    @Test func aPlainRequestGetsThePlainPipelineWithEveryByte() throws {
        let request = "GET /v1/topics/t/events HTTP/1.1\r\nHost: x\r\n\r\n"
        let outcome = try sniff([request, "GET /healthz HTTP/1.1\r\n"])
        #expect(outcome.upgrade == false)
        #expect(outcome.received == Array((request + "GET /healthz HTTP/1.1\r\n").utf8))
        #expect(outcome.snifferLeft)
    }

    @Test("an Upgrade header in any case, in a head cut anywhere", arguments: [1, 2, 3, 5, 17, 1000])
    func anUpgradeHeaderChoosesTheWebSocketPipeline(cut: Int) throws {
        let request = "GET /v1/topics/t/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpGrAdE: websocket\r\n\r\n"
        let bytes = Array(request.utf8)
        let reads = stride(from: 0, to: bytes.count, by: cut).map { String(decoding: bytes[$0..<min($0 + cut, bytes.count)], as: UTF8.self) }
        let outcome = try sniff(reads)
        #expect(outcome.upgrade == true)
        #expect(outcome.received == bytes)
    }

    @Test func aHeaderThatOnlyMentionsUpgradeIsNoUpgrade() throws {
        let outcome = try sniff(["GET /x HTTP/1.1\r\nConnection: upgrade\r\nX-Upgrade: websocket\r\n\r\n"])
        #expect(outcome.upgrade == false)
    }

    @Test func aHeadNotWholeYetWaits() throws {
        let outcome = try sniff(["GET /x HTTP/1.1\r\nHost: x\r\n"])
        #expect(outcome.upgrade == nil)
        #expect(outcome.received.isEmpty)
        #expect(!outcome.snifferLeft)
    }

    @Test func aHeadOverTheLimitGoesToThePlainPipeline() throws {
        let outcome = try sniff(["GET /x HTTP/1.1\r\n", String(repeating: "A", count: 100)], maxHeadBytes: 64)
        #expect(outcome.upgrade == false)
        #expect(outcome.received.count == 17 + 100)
    }

    @Test func shuttingDownBeforeTheFirstHeadClosesTheConnection() throws {
        let outcome = try sniff(["GET /x HT"], event: ChannelShouldQuiesceEvent())
        #expect(outcome.upgrade == nil)
        #expect(outcome.closed)
    }

    @Test func theBlankLineIsFoundAcrossReads() {
        let head = Array("GET / HTTP/1.1\r\n\r".utf8)
        #expect(FirstRequestSniffer<Bool>.blankLine(in: head, from: 0) == nil)
        #expect(FirstRequestSniffer<Bool>.blankLine(in: head + [0x0A, 0x41], from: head.count - 3) == head.count + 1)
    }
}
