@testable import EventLogServer
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The server's own HTTP/1.1 connection layer (``HTTP1Connection``), over real sockets: NIO's
/// decoder and encoder, the HTTP types codec and the connection, answering with a test responder.
@Suite struct HTTP1ConnectionTests {
    /// What the test routes saw.
    final class Seen: Sendable {
        let streamWrites = Atomic<Int>(0)
        let streamEnded = Atomic<Bool>(false)
        let shortcuts = Atomic<Int>(0)
        let front = Atomic<Int>(0)
        /// The last connection accepted.
        let lastChild = NIOLockedValueBox<(any Channel)?>(nil)
        /// While set, the front lane's `/later` answers wait (up to 60 s).
        let holdLater = Atomic<Bool>(false)
        /// While set, `/frontstream`'s body waits after its first bytes (up to 60 s).
        let holdStream = Atomic<Bool>(false)
    }

    /// `GET /frontstream`, answered by the front lane (``front(_:)``) or by the shortcut
    /// (``shortcut(_:)``): an answer whose head is known now, `first` written at once, then
    /// `part 0` and `part 1` from a task (once `holdStream` is clear), then its end.
    static func frontStream(_ seen: Seen) -> HTTP1Shortcut {
        .streaming(HTTPResponse(status: .ok, headerFields: [.contentType: "text/plain"])) { answer in
            _ = answer.writeNow(ByteBuffer(string: "first"))
            answer.resume(flushesEachWrite: true) { writer in
                let deadline = ContinuousClock.now + .seconds(60)
                while seen.holdStream.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                for part in 0..<2 { try await writer.write(ByteBuffer(string: "part \(part)")) }
                try await writer.finish(nil)
            }
        }
    }

    /// The front lane's responder: `POST` `/now` (`front <body size>`) and `/bignow` (1 MiB) at
    /// once, `/later` after 200 ms in a task; `GET /frontstream`; every other request declined.
    static func front(_ seen: Seen) -> @Sendable (HTTP1FrontRequest, ByteBuffer) -> HTTP1Shortcut? {
        { request, body in
            @Sendable func answer(_ body: ByteBuffer) -> HTTP1Shortcut.Answer { .init(head: HTTPResponse(status: .ok), body: body) }
            guard request.method == .post else {
                guard request.target == "/frontstream" else { return nil }
                seen.front.add(1, ordering: .sequentiallyConsistent)
                return frontStream(seen)
            }
            switch request.target {
            case "/now":
                seen.front.add(1, ordering: .sequentiallyConsistent)
                return .now(answer(ByteBuffer(string: "front \(body.readableBytes)")))
            case "/bignow":
                seen.front.add(1, ordering: .sequentiallyConsistent)
                return .now(answer(ByteBuffer(repeating: UInt8(ascii: "f"), count: 1 << 20)))
            case "/later":
                seen.front.add(1, ordering: .sequentiallyConsistent)
                return .later {
                    try? await Task.sleep(for: .milliseconds(200))
                    let deadline = ContinuousClock.now + .seconds(60)
                    while seen.holdLater.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                    return answer(ByteBuffer(string: "front later"))
                }
            default:
                return nil
            }
        }
    }

    /// `/now`: answered at once; `/later`: after 50 ms in a task; `/bignow`: 1 MiB at once.
    static func shortcut(_ seen: Seen) -> @Sendable (HTTPRequest, ByteBuffer) -> HTTP1Shortcut? {
        { head, _ in
            @Sendable func answer(_ body: ByteBuffer) -> HTTP1Shortcut.Answer { .init(head: HTTPResponse(status: .ok), body: body) }
            switch head.path {
            case "/now":
                seen.shortcuts.add(1, ordering: .sequentiallyConsistent)
                return .now(answer(ByteBuffer(string: "now")))
            case "/bignow":
                seen.shortcuts.add(1, ordering: .sequentiallyConsistent)
                return .now(answer(ByteBuffer(repeating: UInt8(ascii: "n"), count: 1 << 20)))
            case "/later":
                seen.shortcuts.add(1, ordering: .sequentiallyConsistent)
                return .later {
                    try? await Task.sleep(for: .milliseconds(50))
                    return answer(ByteBuffer(string: "later"))
                }
            case "/frontstream":
                seen.shortcuts.add(1, ordering: .sequentiallyConsistent)
                return frontStream(seen)
            default:
                return nil
            }
        }
    }

    /// `/big`: 1 MiB of known length; `/echo`: the body's size; `/ignore`: answers without reading the body; `/slow`: answers
    /// after 100 ms; `/stream?n=N`: N writes of 64 KiB, flushed each.
    static func responder(_ seen: Seen) -> HTTP1Responder {
        HTTP1Responder { request, _, _ in
            switch request.uri.path {
            case "/echo":
                let body = (try? await request.body.collect(upTo: 1 << 24)) ?? ByteBuffer()
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "echo \(body.readableBytes)")))
            case "/big":
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: UInt8(ascii: "b"), count: 1 << 20)))
            case "/ignore":
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ignored")))
            case "/slow":
                try? await Task.sleep(for: .milliseconds(100))
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "slow")))
            case "/stream":
                let count = Int(request.uri.queryParameters["n"] ?? "1") ?? 1
                return Response(status: .ok, body: ResponseBody { writer in
                    defer { seen.streamEnded.store(true, ordering: .sequentiallyConsistent) }
                    let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
                    for _ in 0..<count {
                        try await writer.write(chunk)
                        seen.streamWrites.add(1, ordering: .sequentiallyConsistent)
                    }
                    try await writer.finish(nil)
                })
            default:
                return Response(status: .notFound)
            }
        }
    }

    /// A server on 127.0.0.1 whose connections are served by ``HTTP1Connection``.
    final class Server {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel: any Channel
        let seen = Seen()

        /// With `front`, connections have a ``ConnectionGuard`` and the front lane, as logd's do.
        /// With `responder`, that one answers (its own shortcuts), and `front` says whether the
        /// connections have a guard and the lane.
        init(shortcuts: Bool = false, front: Bool = false, responder given: HTTP1Responder? = nil) throws {
            var configured = given ?? HTTP1ConnectionTests.responder(seen)
            if shortcuts { configured.shortcut = HTTP1ConnectionTests.shortcut(seen) }
            if front, given == nil { configured.front = HTTP1ConnectionTests.front(seen) }
            let responder = configured
            channel = try ServerBootstrap(group: group)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { [seen] channel in
                    seen.lastChild.withLockedValue { $0 = channel }
                    return channel.eventLoop.makeCompletedFuture {
                        let logger = Logger(label: "test")
                        guard front else {
                            return try LogServerChannel.addHTTP1Handlers(to: channel, responder: responder, maxHeadBytes: 16 * 1024, logger: logger)
                        }
                        let limits = ConnectionLimits(maxHeaderBytes: 16 * 1024, headerTimeout: .seconds(10), idleTimeout: .seconds(30))
                        let connection = ConnectionGuard(limits: limits, metrics: ServerMetrics(), logger: logger)
                        try channel.pipeline.syncOperations.addHandler(connection.makeRawBytesHandler())
                        try LogServerChannel.addHTTP1Handlers(to: channel, responder: responder, maxHeadBytes: 16 * 1024,
                                                              logger: logger, guardedBy: connection)
                    }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
        }

        var port: Int { channel.localAddress!.port! }

        deinit {
            try? channel.close().wait()
            try? group.syncShutdownGracefully()
        }
    }

    /// A blocking client socket.
    final class Client: Sendable {
        let fd: Int32

        /// A connection to 127.0.0.1:`port` whose reads give up after `receiveTimeout` µs of quiet.
        init(port: Int, receiveTimeout: Int = 5_000_000) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var timeout = timeval(tv_sec: receiveTimeout / 1_000_000, tv_usec: receiveTimeout % 1_000_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
        }

        deinit { close(fd) }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        }

        /// A `POST` to `path` with `size` bytes of body (a multiple of 64 KiB), sent in 64 KiB writes.
        func send(body size: Int, to path: String) {
            send("POST \(path) HTTP/1.1\r\nHost: a\r\nContent-Length: \(size)\r\n\r\n")
            let piece = String(repeating: "y", count: 64 * 1024)
            for _ in 0..<(size / piece.utf8.count) { send(piece) }
        }

        /// Reads until `count` answers have arrived whole (their bodies have `Content-Length`),
        /// or until the connection ends or stays silent for 5 s; returns the bodies in order.
        func answers(_ count: Int) -> [String] {
            var received: [UInt8] = []
            var bodies: [String] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while bodies.count < count {
                bodies = Self.bodies(in: received)
                if bodies.count >= count { break }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                received += buffer[..<n]
            }
            return Self.bodies(in: received)
        }

        static func bodies(in bytes: [UInt8]) -> [String] {
            var bodies: [String] = []
            var rest = String(decoding: bytes, as: UTF8.self)[...]
            while let end = rest.range(of: "\r\n\r\n") {
                let head = rest[..<end.lowerBound].lowercased()
                guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
                      let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else { break }
                let body = rest[end.upperBound...]
                guard body.utf8.count >= length else { break }
                let bodyEnd = body.utf8.index(body.startIndex, offsetBy: length)
                bodies.append(String(body[..<bodyEnd]))
                rest = body[bodyEnd...]
            }
            return bodies
        }
    }

    @Test func pipelinedRequestsAreAnsweredInTheirOrder() throws {
        let server = try Server()
        let client = try Client(port: server.port)
        client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            + "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(client.answers(4) == ["slow", "echo 5", "ignored", "slow"])
    }

    /// Answers by the shortcut, at once or later, keep their places among the router's.
    @Test func shortcutAnswersKeepTheirPlaceInThePipeline() throws {
        let server = try Server(shortcuts: true)
        let client = try Client(port: server.port)
        client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /now HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            + "GET /later HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /bignow HTTP/1.1\r\nHost: a\r\n\r\n"
            + "GET /now HTTP/1.1\r\nHost: a\r\n\r\n")
        let answers = client.answers(6)
        #expect(answers.count == 6)
        #expect(answers.map { $0.utf8.count > 100 ? "1 MiB" : $0 } == ["slow", "now", "later", "echo 5", "1 MiB", "now"])
    }

    /// A client that pipelines requests for large answers and reads none is not answered
    /// without bound: once an answer takes the connection over its high-water mark, the next
    /// waits until it drains, and the connection stops reading once its queue is full.
    @Test func shortcutAnswersWaitForAClientThatReadsNothing() async throws {
        let server = try Server(shortcuts: true)
        let client = try Client(port: server.port)
        client.send(String(repeating: "GET /bignow HTTP/1.1\r\nHost: a\r\n\r\n", count: 200))
        try await Task.sleep(for: .milliseconds(500))
        let answered = server.seen.shortcuts.load(ordering: .sequentiallyConsistent)
        #expect(answered > 0)
        #expect(answered < 40, "\(answered) answers of 1 MiB were made for a client that read nothing")
    }

    /// An answer of known length larger than the channel's high-water mark is written whole.
    @Test func anAnswerOverTheHighWaterMarkIsWrittenWhole() throws {
        let server = try Server()
        let client = try Client(port: server.port)
        client.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        let answers = client.answers(2)
        #expect(answers.map(\.utf8.count) == [1 << 20, 4])
    }

    @Test func aBodyInManyReadsStreamsToTheRoute() throws {
        let server = try Server()
        let client = try Client(port: server.port)
        let size = 3 * 1024 * 1024
        client.send(body: size, to: "/echo")
        client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(client.answers(2) == ["echo \(size)", "slow"])
    }

    @Test func aBodyTheRouteDoesNotReadIsDroppedAndTheNextRequestServed() throws {
        let server = try Server()
        let client = try Client(port: server.port)
        let size = 2 * 1024 * 1024
        client.send(body: size, to: "/ignore")
        client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok")
        #expect(client.answers(2) == ["ignored", "echo 2"])
    }

    @Test func aStreamWaitsForAClientThatReadsNothingAndEndsWhenItCloses() async throws {
        let server = try Server()
        let seen = server.seen
        do {
            let client = try Client(port: server.port)
            client.send("GET /stream?n=1000 HTTP/1.1\r\nHost: a\r\n\r\n")
            // 64 MiB asked; the client reads nothing: the writes stop at the socket buffers
            // plus the channel's high-water mark.
            try await Task.sleep(for: .milliseconds(500))
            let written = seen.streamWrites.load(ordering: .sequentiallyConsistent)
            #expect(written > 0)
            #expect(written < 200, "\(written) writes of 64 KiB went out to a client that read nothing")
            try await Task.sleep(for: .milliseconds(200))
            let writtenLater = seen.streamWrites.load(ordering: .sequentiallyConsistent)
            #expect(writtenLater == written)
            let endedEarly = seen.streamEnded.load(ordering: .sequentiallyConsistent)
            #expect(!endedEarly)
        }
        // The client closed: the waiting write fails and the stream's task ends.
        let deadline = ContinuousClock.now + .seconds(5)
        while !seen.streamEnded.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let ended = seen.streamEnded.load(ordering: .sequentiallyConsistent)
        #expect(ended)
    }

    /// The front lane answers the requests it knows that came first in a read, then hands the
    /// rest of the connection to the decoder: every answer in its request's place.
    @Test func frontLaneAnswersKeepTheirPlaceAndTheDecoderTakesOver() throws {
        let server = try Server(shortcuts: true, front: true)
        let client = try Client(port: server.port)
        let now = "POST /now HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        client.send(now + now + "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n" + now + "GET /now HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(client.answers(5) == ["front 3", "front 3", "slow", "now", "now"])
        #expect(server.seen.front.load(ordering: .sequentiallyConsistent) == 2)
        // The lane has left this connection; a new one starts with it.
        client.send(now)
        #expect(client.answers(1) == ["now"])
        let second = try Client(port: server.port)
        second.send(now)
        #expect(second.answers(1) == ["front 3"])
        #expect(server.seen.front.load(ordering: .sequentiallyConsistent) == 3)
    }

    /// An answer found in a task (`.later`) keeps its place: what follows waits for it.
    @Test func anAwaitedAnswerKeepsItsPlace() throws {
        let server = try Server(shortcuts: true, front: true)
        let client = try Client(port: server.port)
        let now = "POST /now HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx"
        client.send(now + "POST /later HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" + now + now)
        #expect(client.answers(4) == ["front 1", "front later", "front 1", "front 1"])
        #expect(server.seen.front.load(ordering: .sequentiallyConsistent) == 4)
        // And after another route, the decoder's path keeps the order just as well.
        client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n" + "POST /later HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" + now)
        #expect(client.answers(3) == ["slow", "later", "now"])
    }

    /// A request split across reads is never shown to the lane's responder: it goes to the
    /// decoder whole, answered once.
    @Test func aRequestSplitAcrossReadsGoesToTheDecoderWhole() async throws {
        let server = try Server(shortcuts: true, front: true)
        let split = try Client(port: server.port)
        split.send("POST /now HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhe")
        try await Task.sleep(for: .milliseconds(100))
        split.send("llo")
        // Its body streams to the router, which (here) knows no `/now`: its 404, once.
        #expect(split.answers(1) == [""])
        #expect(server.seen.front.load(ordering: .sequentiallyConsistent) == 0)
    }

    /// While an answer is awaited, the client's half-close and a graceful shutdown wait for it:
    /// the answer is written, then the connection ends (after a shutdown, what the client
    /// pipelined behind it is not served).
    @Test func aHalfCloseOrAShutdownWaitsForTheAwaitedAnswer() async throws {
        let server = try Server(shortcuts: true, front: true)
        let later = "POST /later HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
        let halfClosed = try Client(port: server.port)
        halfClosed.send(later)
        shutdown(halfClosed.fd, Int32(SHUT_WR))
        #expect(halfClosed.answers(2) == ["front later"])

        let quiesced = try Client(port: server.port)
        server.seen.holdLater.store(true, ordering: .sequentiallyConsistent)
        quiesced.send(later + "POST /now HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
        // Its `/later` is being answered (200 ms): the second the lane's responder was asked.
        let deadline = ContinuousClock.now + .seconds(60)
        while server.seen.front.load(ordering: .sequentiallyConsistent) < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        try #require(server.seen.front.load(ordering: .sequentiallyConsistent) == 2, "the server never read the second /later")
        let child = try #require(server.seen.lastChild.withLockedValue { $0 })
        try await child.eventLoop.submit { child.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }.get()
        server.seen.holdLater.store(false, ordering: .sequentiallyConsistent)
        #expect(quiesced.answers(2) == ["front later"])
    }

    /// What arrived while an answer was awaited goes to the decoder when the lane cannot answer
    /// it, and so does the client's half-close that came with it: both answers, then the end.
    @Test func whatWasHeldReachesTheDecoderWithTheHalfClose() async throws {
        let server = try Server(shortcuts: true, front: true)
        let client = try Client(port: server.port)
        server.seen.holdLater.store(true, ordering: .sequentiallyConsistent)
        client.send("POST /later HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
        let deadline = ContinuousClock.now + .seconds(60)
        while server.seen.front.load(ordering: .sequentiallyConsistent) < 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        shutdown(client.fd, Int32(SHUT_WR))
        try await Task.sleep(for: .milliseconds(100))
        server.seen.holdLater.store(false, ordering: .sequentiallyConsistent)
        #expect(client.answers(2) == ["front later", "slow"])
        // The connection ended (a read finds its end, not the 5 s receive timeout).
        var byte: UInt8 = 0
        #expect(recv(client.fd, &byte, 1, 0) == 0)
    }

    /// A client that pipelines requests for large answers and reads none: the lane stops at
    /// the high-water mark and leaves, and the decoder's bounds hold from there.
    @Test func frontLaneAnswersStopForAClientThatReadsNothing() async throws {
        let server = try Server(shortcuts: true, front: true)
        let client = try Client(port: server.port)
        // 64 bytes each, so that NIO's reads (powers of two, from 2 KiB) end between requests
        // and the lane, not a split request, has to stop.
        let request = "POST /bignow HTTP/1.1\r\nHost: a\r\nX: 123456\r\nContent-Length: 0\r\n\r\n"
        #expect(request.utf8.count == 64)
        client.send(String(repeating: request, count: 200))
        try await Task.sleep(for: .milliseconds(500))
        let viaLane = server.seen.front.load(ordering: .sequentiallyConsistent)
        let answered = viaLane + server.seen.shortcuts.load(ordering: .sequentiallyConsistent)
        #expect(viaLane > 0)
        #expect(answered < 40, "\(answered) answers of 1 MiB were made for a client that read nothing")
    }

    /// A stream the lane starts (a `GET` that ends its read, Docs/adr/0011-event-streams-in-front-of-the-decoder.md)
    /// is answered byte for byte as the same answer started through the decoder: its head, its
    /// chunks and its end; a request sent behind it waits for its end, and a client that half-closed
    /// gets the whole stream, then the connection's end.
    @Test func aStreamStartedInFrontAnswersAsThroughTheDecoder() async throws {
        var pipelined: [String] = []
        var halfClosed: [String] = []
        for front in [true, false] {
            let server = try Server(shortcuts: true, front: front)
            server.seen.holdStream.store(true, ordering: .sequentiallyConsistent)
            let client = try Client(port: server.port, receiveTimeout: 300_000)
            client.send("GET /frontstream HTTP/1.1\r\nHost: a\r\n\r\n")
            let closing = try Client(port: server.port, receiveTimeout: 300_000)
            closing.send("GET /frontstream HTTP/1.1\r\nHost: a\r\n\r\n")
            try await Task.sleep(for: .milliseconds(50))
            client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
            shutdown(closing.fd, Int32(SHUT_WR))
            try await Task.sleep(for: .milliseconds(50))
            server.seen.holdStream.store(false, ordering: .sequentiallyConsistent)
            pipelined.append(await client.receivedAside())
            halfClosed.append(await closing.receivedAside())
            var byte: UInt8 = 0
            #expect(recv(closing.fd, &byte, 1, 0) == 0, "the half-closed client's connection ended")
            #expect(server.seen.front.load(ordering: .sequentiallyConsistent) == (front ? 2 : 0))
            #expect(server.seen.shortcuts.load(ordering: .sequentiallyConsistent) == (front ? 0 : 2))
        }
        let stream = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ndate: -\r\ntransfer-encoding: chunked\r\n\r\n"
            + "5\r\nfirst\r\n6\r\npart 0\r\n6\r\npart 1\r\n0\r\n\r\n"
        #expect(pipelined[0] == pipelined[1])
        #expect(pipelined[0].hasPrefix(stream + "HTTP/1.1 200 OK\r\n"), "\(pipelined[0])")
        #expect(halfClosed[0] == halfClosed[1])
        #expect(halfClosed[0] == stream, "\(halfClosed[0])")
    }

    /// `Connection: close` is the decoder's: the answer comes, then the connection ends.
    @Test func aRequestThatClosesIsLeftToTheDecoder() throws {
        let server = try Server(shortcuts: true, front: true)
        let client = try Client(port: server.port)
        client.send("POST /now HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        #expect(client.answers(2) == ["now"])
        #expect(server.seen.front.load(ordering: .sequentiallyConsistent) == 0)
    }

    @Test func answersCarryADateHeader() throws {
        #expect(HTTPDate.format(secondsSinceEpoch: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(secondsSinceEpoch: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(secondsSinceEpoch: 1_796_160_164) == "Tue, 01 Dec 2026 21:22:44 GMT")
        #expect(HTTPDate.format(secondsSinceEpoch: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }
}
