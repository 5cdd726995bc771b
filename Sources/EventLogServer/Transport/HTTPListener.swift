import HTTPTypes
public import Hummingbird
import HummingbirdCore
public import HummingbirdWebSocket
import Logging
import NIOCore
import NIOExtras
import NIOPosix
public import ServiceLifecycle

/// `logd`'s HTTP listener: accepts connections with SwiftNIO's bootstrap and serves each
/// through the server's connection pipeline (`LogServerChannel`), with no task per connection unless the connection needs one
/// (a WebSocket, HTTP/2) — Docs/adr/0005-http1-connection.md.
///
/// Hummingbird's server takes every accepted connection through an async sequence into a task
/// of its own, started on the global executor, which for an HTTP/1.1 connection served by
/// the server's HTTP/1.1 layer (`HTTP1Connection`) only waits for the first request: a thread wake-up, a task and two hops
/// per connection, about 15 % of the CPU of a storm of new streams (`perf`, 10,000 streams).
/// Here the connection is handed to its pipeline in the bootstrap's initializer.
///
/// A graceful shutdown (ServiceLifecycle) quiesces every connection (`ChannelShouldQuiesceEvent`:
/// idle ones close, busy ones after their answer, streams end, HTTP/2 sends `GOAWAY`) and
/// returns when all are closed, then the listening socket is closed; the server's own
/// ``LogServerConfiguration/shutdownGracePeriod`` bounds the wait (``LogServer/run()``).
public struct HTTPListener: Service {
    let channel: LogServerChannel
    let host: String
    let port: Int
    let backlog: Int32
    let onListening: @Sendable (_ port: Int) -> Void
    let logger: Logger

    /// Listens until a graceful shutdown, then quiesces and waits for every connection to close.
    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let quiesce = ServerQuiescingHelper(group: group)
        let (channel, logger) = (self.channel, self.logger)
        let listening = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: backlog)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { server in
                server.eventLoop.makeCompletedFuture {
                    try server.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: server))
                }
            }
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let eventLoop = child.eventLoop
                    try channel.configure(child, logger: logger) { channel.serve($0, on: eventLoop, logger: logger) }
                }
            }
            .bind(host: host, port: port).get()
        onListening(listening.localAddress?.port ?? port)
        // Returns at a graceful shutdown, throws when the service is cancelled: either way the
        // listener stops.
        try? await gracefulShutdown()
        let stopped = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: stopped)
        try await stopped.futureResult.get()
    }
}

extension LogServer {
    /// `logd`'s HTTP listener on `host`:`port`: HTTP/1.1 and HTTP/2 (over TLS when `tls` is
    /// given, else h2c), every request answered by `router` (``httpServer(router:tls:)`` says
    /// what guards each connection), with no Hummingbird `Application` around it.
    ///
    /// - Parameters:
    ///   - router: the router that answers every request (and upgrades WebSockets).
    ///   - tls: the certificate and key every new connection presents; `nil` for plain TCP.
    ///   - host: the address to listen on.
    ///   - port: the port to listen on; `0` for one the system picks (see `onListening`).
    ///   - backlog: the accept queue's length (the kernel caps it at `somaxconn`).
    ///   - shortcuts: whether HTTP/1.1 produce requests and event streams that need nothing but
    ///     this server's routes and middleware are answered without the router, from the
    ///     connection's event loop (Docs/adr/0006-produce-shortcut.md,
    ///     Docs/adr/0009-event-stream-shortcut.md), both even in front of NIO's HTTP/1.1
    ///     decoder (Docs/adr/0008-produce-front-lane.md,
    ///     Docs/adr/0011-event-streams-in-front-of-the-decoder.md). Only for a router built with exactly
    ///     ``addMiddleware(to:)`` and ``addRoutes(to:)``: middleware of the caller's own would
    ///     not see those requests.
    ///   - onListening: called with the bound port once connections are accepted.
    public func httpListener<Router: HTTPResponderBuilder & SendableMetatype>(
        router: Router, tls: TLSCredentials? = nil, host: String, port: Int, backlog: Int32 = 4096,
        shortcuts: Bool = false, onListening: @escaping @Sendable (_ port: Int) -> Void
    ) -> HTTPListener
    where Router.Responder.Context: WebSocketRequestContext & RequestContext, Router.Responder.Context.Source == ApplicationRequestContextSource {
        var http1 = HTTP1Responder(StreamRequestResponder(router.buildResponder()))
        if shortcuts {
            let routes = Routes<Router.Responder.Context>(server: self)
            http1.shortcut = { head, body in
                head.method == .get ? routes.streamShortcut(head) : routes.produceShortcut(head, body: body)
            }
            http1.front = { request, body in
                request.method == .get ? routes.streamShortcut(request) : routes.produceShortcut(request, body: body)
            }
        }
        let responder = http1
        // WebSocket and HTTP/2 streams are answered through Hummingbird's writer, as its
        // application answers them.
        let logger = self.logger
        let channelResponder: HTTPChannelHandler.Responder = { request, writer, channel in
            var response = await responder.respond(request, channel, logger)
            response.headers[.date] = HTTPDate.now()
            try await writer.write(response: response.head, body: response.body)
        }
        let channel = logServerChannel(webSocketResponder: router.buildResponder(), tls: tls, http1: responder,
                                       responder: channelResponder)
        return HTTPListener(channel: channel,
                            host: host, port: port, backlog: backlog, onListening: onListening, logger: logger)
    }
}
