public import EventLog
public import Logging
import KafkaProtocol
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The Kafka wire protocol on a TCP port, beside the HTTP server, on the same store
/// (Docs/KAFKA.md).
///
/// Each connection's requests are answered one at a time, in order, as Kafka does: a long-poll
/// Fetch delays the requests behind it on its connection, not other connections. On graceful
/// shutdown it stops accepting, and open connections end (a waiting Fetch is answered first
/// when the store closes its partitions).
public final class KafkaListener: Service {
    let store: LogStore
    let groups: GroupCoordinatorProvider
    let configuration: KafkaListenerConfiguration
    let logger: Logger
    let onBound: @Sendable (_ host: String, _ port: Int) -> Void
    private let connections = Atomic<Int>(0)

    /// A listener for `store`.
    ///
    /// - Parameters:
    ///   - groups: the store's group coordinator, shared with the HTTP API (`LogServer.groupCoordinator()`).
    ///   - onBound: called once the port is bound, with the bound address (the port chosen
    ///     when 0 was asked for).
    /// - Throws: ``KafkaListenerConfigurationError`` when the advertised host is a wildcard.
    public init(store: LogStore, groups: @escaping GroupCoordinatorProvider, configuration: KafkaListenerConfiguration, logger: Logger,
                onBound: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }) throws(KafkaListenerConfigurationError) {
        _ = try configuration.checkedAdvertisedHost()
        self.store = store
        self.groups = groups
        self.configuration = configuration
        self.logger = logger
        self.onBound = onBound
    }

    /// Binds, then serves until graceful shutdown.
    ///
    /// - Throws: the bind error when ``KafkaListenerConfiguration/bindFailureIsFatal`` is set;
    ///   otherwise a failed bind is logged and `run` returns.
    public func run() async throws {
        let configuration = self.configuration
        let server: NIOAsyncChannel<NIOAsyncChannel<[UInt8], ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let idle = TimeAmount.nanoseconds(Int64(configuration.idleTimeout.components.seconds) * 1_000_000_000)
                        try channel.pipeline.syncOperations.addHandlers(
                            IdleStateHandler(readTimeout: idle), IdleConnectionCloser(),
                            ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: configuration.maxFrameBytes)))
                        return try NIOAsyncChannel<[UInt8], ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            if configuration.bindFailureIsFatal {
                throw KafkaListenerConfigurationError("the Kafka listener cannot listen on \(configuration.host):\(configuration.port) (\(error))")
            }
            logger.warning("The Kafka listener is off: cannot listen on \(configuration.host):\(configuration.port) (\(error)).")
            return
        }
        let port = server.channel.localAddress?.port ?? configuration.port
        let broker = KafkaBroker(store: store, groups: groups, configuration: configuration,
                                 advertisedHost: try configuration.checkedAdvertisedHost(), advertisedPort: port, logger: logger)
        logger.info("Kafka listener on \(configuration.host):\(port)")
        onBound(configuration.host, port)

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        guard connections.add(1, ordering: .relaxed).newValue <= configuration.maxConnections else {
                            connections.subtract(1, ordering: .relaxed)
                            logger.notice("Kafka connection refused: \(configuration.maxConnections) are open already.")
                            try? await connection.channel.close()
                            continue
                        }
                        group.addTask {
                            await self.serve(connection, broker: broker)
                            self.connections.subtract(1, ordering: .relaxed)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }

    /// Answers one connection's requests in order until it closes, breaks the protocol, or the
    /// service shuts down.
    private func serve(_ connection: NIOAsyncChannel<[UInt8], ByteBuffer>, broker: KafkaBroker) async {
        let peer = connection.channel.remoteAddress.map { "\($0)" } ?? "?"
        let clientHost = "/" + (connection.channel.remoteAddress?.ipAddress ?? "")
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await cancelWhenGracefulShutdown {
                    var session = KafkaSession(clientHost: clientHost, requiresAuthentication: broker.configuration.authenticator != nil)
                    for try await frame in inbound {
                        switch await broker.handle(frame: frame, session: &session) {
                        case .respond(let bytes):
                            try await outbound.write(ByteBuffer(bytes: bytes))
                        case .noResponse:
                            continue
                        case .close(let reason):
                            self.logger.notice("Kafka connection from \(peer) closed: \(reason)")
                            return
                        case .respondThenClose(let bytes, let reason):
                            try await outbound.write(ByteBuffer(bytes: bytes))
                            self.logger.notice("Kafka connection from \(peer) closed: \(reason)")
                            return
                        }
                    }
                }
            }
        } catch is CancellationError {
        } catch let error as KafkaProtocolError {
            logger.notice("Kafka connection from \(peer) closed: \(error.message)")
        } catch {
            logger.debug("Kafka connection from \(peer) ended: \(error)")
        }
    }
}
