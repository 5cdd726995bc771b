import EventLog
@testable import EventLogServer
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

/// The event-stream shortcut (Docs/adr/0009-event-stream-shortcut.md) answers exactly as the
/// router does, and leaves to the router every request it could not answer the same way.
@Suite("Event-stream shortcut", .serialized)
struct StreamShortcutTests {
    /// One server's routes served over real sockets by three listeners: one whose connections
    /// ask the event-stream shortcut first, one whose connections go to the router, and one
    /// whose connections are guarded and start streams in front of the decoder, as logd's do
    /// (Docs/adr/0011-event-streams-in-front-of-the-decoder.md).
    final class Listeners {
        /// The process's loops, which outlive the test: a live fan-out's task may still wake on
        /// its loop after the test (its wait for records ends at the keepalive interval).
        let group = MultiThreadedEventLoopGroup.singleton
        let viaShortcut: any Channel
        let viaRouter: any Channel
        let viaLane: any Channel
        /// How many requests the shortcut answered.
        let shortcutAnswers = Count()
        /// How many requests the front lane answered.
        let laneAnswers = Count()

        final class Count: Sendable {
            let value = Atomic<Int>(0)
        }

        init(_ server: LogServer) throws {
            let router = Router(context: LogRequestContext.self)
            server.addMiddleware(to: router)
            server.addRoutes(to: router)
            let plain = HTTP1Responder(StreamRequestResponder(router.buildResponder()))
            var shortcut = plain
            let routes = Routes<LogRequestContext>(server: server)
            let count = shortcutAnswers
            shortcut.shortcut = { head, _ in
                let answer = routes.streamShortcut(head)
                if answer != nil { count.value.add(1, ordering: .sequentiallyConsistent) }
                return answer
            }
            viaShortcut = try Self.listen(group, shortcut)
            viaRouter = try Self.listen(group, plain)
            var lane = plain
            let laneCount = laneAnswers
            lane.front = { request, _ in
                let answer = routes.streamShortcut(request)
                if answer != nil { laneCount.value.add(1, ordering: .sequentiallyConsistent) }
                return answer
            }
            viaLane = try Self.listen(group, lane, guardedWith: server.metrics)
        }

        /// With `metrics`, connections have a ``ConnectionGuard`` (and so the front lane when
        /// `responder` has one), as logd's do.
        static func listen(_ group: any EventLoopGroup, _ responder: HTTP1Responder, guardedWith metrics: ServerMetrics? = nil) throws -> any Channel {
            try ServerBootstrap(group: group)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let logger = Logger(label: "test")
                        var connection: ConnectionGuard?
                        if let metrics {
                            let limits = ConnectionLimits(maxHeaderBytes: 16 * 1024, headerTimeout: .seconds(10), idleTimeout: .seconds(30))
                            connection = ConnectionGuard(limits: limits, metrics: metrics, logger: logger)
                            try channel.pipeline.syncOperations.addHandler(connection!.makeRawBytesHandler())
                        }
                        try LogServerChannel.addHTTP1Handlers(to: channel, responder: responder, maxHeadBytes: 16 * 1024,
                                                              logger: logger, guardedBy: connection)
                    }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
        }

        func close() {
            try? viaShortcut.close().wait()
            try? viaRouter.close().wait()
            try? viaLane.close().wait()
        }
    }

    /// A blocking client socket (``HTTP1ConnectionTests/Client``); made here with reads that
    /// give up after 300 ms of quiet.
    typealias Client = HTTP1ConnectionTests.Client
    static func head(_ path: String, _ method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) -> HTTPRequest {
        HTTPRequest(method: method, scheme: nil, authority: "localhost", path: path, headerFields: headers)
    }

    static func withServer(_ body: (LogServer, Listeners) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let store = try await openStore(directory)
            let server = LogServer(store: store, configuration: LogServerConfiguration(), logger: testLogger)
            server.lifecycleForTesting.markRunning()
            let listeners = try Listeners(server)
            do {
                try await body(server, listeners)
            } catch {
                server.liveFanout.stopAll()
                listeners.close()
                try? await store.close()
                throw error
            }
            // The streams end (handed back, their answers ended on their loops) before the loop stops.
            server.liveFanout.stopAll()
            try await Task.sleep(for: .milliseconds(300))
            listeners.close()
            try await store.close()
        }
    }

    /// The same stream requests through the shortcut and through the router: the same head
    /// (but `Date`), the same first bytes (`retry:`, notices, the starting cursor, what is
    /// replayed), and the same live events once records are appended; the caught-up streams of
    /// both paths end up in the live fan-out.
    /// The front lane's streams (ADR 0011) answer the same way too.
    @Test func theShortcutAnswersAsTheRouterDoes() async throws {
        try await Self.withServer { server, listeners in
            let (shortcutPort, routerPort) = (listeners.viaShortcut.localAddress!.port!, listeners.viaRouter.localAddress!.port!)
            let lanePort = listeners.viaLane.localAddress!.port!
            _ = try Client.exchange(port: routerPort, "PUT", "/v1/topics/t", json: #"{"partitions": 2}"#)
            let stored = try Client.exchange(port: routerPort, "POST", "/v1/topics/t/records",
                                             json: #"{"records": [{"partition": 0, "value": 1}, {"partition": 0, "value": 2}, {"partition": 0, "value": 3}]}"#)
            #expect(stored.hasPrefix("HTTP/1.1 200"))
            let requests: [(path: String, headers: String)] = [
                ("/v1/topics/t/events", ""),
                ("/v1/topics/t/events?from=latest&format=envelope", ""),
                ("/v1/topics/t/events?from=earliest", ""),
                ("/v1/topics/t/events?from=2", ""),
                ("/v1/topics/t/events", "Last-Event-ID: 1,0\r\n"),
                ("/v1/topics/t/events?last_event_id=9,0&format=value", ""),
                ("/v1/topics/t/events?other=1", "Accept: text/event-stream\r\n"),
            ]
            var streams: [(shortcut: Client, router: Client, lane: Client)] = []
            for request in requests {
                let text = "GET \(request.path) HTTP/1.1\r\nHost: a\r\n\(request.headers)\r\n"
                let (viaShortcut, viaRouter) = (try Client(port: shortcutPort, receiveTimeout: 300_000), try Client(port: routerPort, receiveTimeout: 300_000))
                let viaLane = try Client(port: lanePort, receiveTimeout: 300_000)
                viaShortcut.send(text)
                viaRouter.send(text)
                viaLane.send(text)
                let (first, expected, inFront) = await (viaShortcut.receivedAside(), viaRouter.receivedAside(), viaLane.receivedAside())
                #expect(first == expected, "\(request.path) \(request.headers)")
                #expect(inFront == expected, "\(request.path) \(request.headers)")
                #expect(first.hasPrefix("HTTP/1.1 200 OK\r\n") && first.contains("retry: ") && first.contains("id: "), "\(first)")
                streams.append((viaShortcut, viaRouter, viaLane))
            }
            #expect(listeners.shortcutAnswers.value.load(ordering: .sequentiallyConsistent) == requests.count)
            #expect(listeners.laneAnswers.value.load(ordering: .sequentiallyConsistent) == requests.count)
            #expect(server.liveFanout.memberCount == 3 * requests.count)

            let live = try Client.exchange(port: routerPort, "POST", "/v1/topics/t/records",
                                           json: #"{"records": [{"partition": 1, "value": "x"}, {"partition": 0, "value": 4}]}"#)
            #expect(live.hasPrefix("HTTP/1.1 200"))
            for (index, stream) in streams.enumerated() {
                let (next, expected, inFront) = await (stream.shortcut.receivedAside(), stream.router.receivedAside(), stream.lane.receivedAside())
                #expect(next == expected, "\(requests[index].path)")
                #expect(inFront == expected, "\(requests[index].path)")
                #expect(next.contains("id: "), "\(next)")
            }
            // A stop hands every stream back; each ends its answer (the last chunk) and stays
            // open for the next request.
            server.liveFanout.stopAll()
            for (index, stream) in streams.enumerated() {
                let (end, expected, inFront) = await (stream.shortcut.receivedAside(), stream.router.receivedAside(), stream.lane.receivedAside())
                #expect(end == expected, "\(requests[index].path)")
                #expect(inFront == expected, "\(requests[index].path)")
                #expect(end.hasSuffix("0\r\n\r\n"), "\(end)")
            }
        }
    }

    /// A stream that replays in a task, catches up and joins the live fan-out is still its
    /// connection's answer: a request sent behind it waits for its end, then is answered. (Before
    /// ADR 0011 the answer was ended when the replay's task returned, and the request behind it
    /// was answered in the middle of the stream.)
    @Test func aRequestBehindAStreamThatReplayedWaitsForItsEnd() async throws {
        try await Self.withServer { server, listeners in
            let routerPort = listeners.viaRouter.localAddress!.port!
            _ = try Client.exchange(port: routerPort, "PUT", "/v1/topics/t", json: #"{"partitions": 1}"#)
            let stored = try Client.exchange(port: routerPort, "POST", "/v1/topics/t/records",
                                             json: #"{"records": [{"value": 1}, {"value": 2}, {"value": 3}]}"#)
            #expect(stored.hasPrefix("HTTP/1.1 200"))
            var clients: [Client] = []
            for port in [listeners.viaShortcut.localAddress!.port!, listeners.viaLane.localAddress!.port!] {
                let client = try Client(port: port, receiveTimeout: 300_000)
                client.send("GET /v1/topics/t/events?from=earliest HTTP/1.1\r\nHost: a\r\n\r\n")
                let replayed = await client.receivedAside()
                #expect(replayed.hasPrefix("HTTP/1.1 200 OK\r\n") && replayed.contains("data: 3"), "\(replayed)")
                client.send("GET /v1/topics/t HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(await client.receivedAside() == "", "answered in the middle of the stream (\(port))")
                clients.append(client)
            }
            #expect(server.liveFanout.memberCount == 2)
            server.liveFanout.stopAll()
            for client in clients {
                let rest = await client.receivedAside()
                #expect(rest.hasPrefix("0\r\n\r\nHTTP/1.1 200 OK\r\n") && rest.contains("\"t\""), "\(rest)")
            }
        }
    }

    /// Every stream request the router would answer otherwise (or after a wait, or through
    /// middleware) is left to it.
    @Test func requestsItCannotAnswerTheSameWayAreLeftToTheRouter() async throws {
        try await Self.withServer { server, listeners in
            _ = try Client.exchange(port: listeners.viaRouter.localAddress!.port!, "PUT", "/v1/topics/t", json: #"{"partitions": 2}"#)
            let routes = Routes<LogRequestContext>(server: server)
            let left: [HTTPRequest] = [
                Self.head("/v1/topics/t/events?group=g"),
                Self.head("/v1/topics/t/events?from=time:0"),
                Self.head("/v1/topics/t/events?from=soon"),
                Self.head("/v1/topics/t/events?format=xml"),
                Self.head("/v1/topics/t/events?last_event_id=1"),
                Self.head("/v1/topics/t/events", headers: [HTTPField.Name("Last-Event-ID")!: "x"]),
                Self.head("/v1/topics/t/events", headers: [.acceptEncoding: "gzip, deflate"]),
                Self.head("/v1/topics/t/events", headers: [.upgrade: "websocket"]),
                Self.head("/v1/topics/t/events/"),
                Self.head("/v1/topics/missing/events"),
                Self.head("/v1/topics/t%2Fx/events"),
                Self.head("/v1/topics//events"),
                Self.head("/v1/topics/t/events", .head),
                Self.head("/v1/topics/t/records"),
            ]
            for head in left {
                #expect(routes.streamShortcut(head) == nil, "\(head.method) \(head.path ?? "") \(head.headerFields)")
            }
        }
    }
}

extension HTTP1ConnectionTests.Client {
    /// ``received()`` on a thread of SwiftNIO's blocking pool: its waits for quiet (300 ms
    /// each) then hold none of the few threads of Swift's cooperative pool, which the tests
    /// running beside this one need (a starved pool made their timeouts fire).
    func receivedAside() async -> String {
        (try? await NIOThreadPool.singleton.runIfActive { self.received() }) ?? ""
    }

    /// What arrives until 300 ms pass without a byte (or 5 s in all), with the `Date`
    /// field's value (the only part of an answer that depends on when it was made) blanked.
    func received() -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(5) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[..<n]
        }
        return String(decoding: received, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
            .map { $0.lowercased().hasPrefix("date:") ? "date: -" : String($0) }.joined(separator: "\r\n")
    }

    /// Sends one request with `Connection: close` and returns the answer.
    static func exchange(port: Int, _ method: String, _ path: String, json: String) throws -> String {
        let client = try Self(port: port, receiveTimeout: 300_000)
        client.send("\(method) \(path) HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n"
            + "Connection: close\r\n\r\n\(json)")
        return client.received()
    }
}
