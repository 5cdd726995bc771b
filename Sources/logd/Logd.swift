import ArgumentParser
import EventLog
import EventLogKafka
import EventLogServer
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// Every default of `logd`, in one place: the flags below start from it.
private let defaults = LogdConfiguration()

/// `logd`: serves an EventLog data directory over HTTP. Wiring only: flags to a
/// ``LogdConfiguration``, then the store, the server and the service group.
@main
struct Logd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logd",
        abstract: "A durable, append-only event log served over HTTP (REST, Server-Sent Events, WebSocket)."
    )

    @Option(name: .long, help: "The data directory; created when missing.")
    var dataDir = defaults.dataDirectory

    @Option(name: .long, help: "The address to listen on. Without --auth-token or a JWT key, keep it on loopback.")
    var host = defaults.host

    @Option(name: .long, help: "The port to listen on; 0 picks a free one.")
    var port = defaults.port

    @Option(name: .long, help: "A PEM file with the TLS certificate chain (server certificate first); with --tls-key, logd speaks HTTPS with HTTP/2 and HTTP/1.1. Read again on SIGHUP.")
    var tlsCertificate: String?

    @Option(name: .long, help: "A PEM file with the TLS certificate's private key. Read again on SIGHUP.")
    var tlsKey: String?

    @Option(name: .long, help: "Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).")
    var http2MaxConcurrentStreams = defaults.server.http2MaxConcurrentStreams

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = defaults.logLevel.rawValue

    @Option(name: .long, parsing: .singleValue, help: "A bearer token that grants all access (repeatable). Without any, and without a JWT key, authentication is off.")
    var authToken: [String] = defaults.server.authTokens

    @Option(name: .long, help: "Accept JWTs signed with this HS256 secret (32 bytes or more). --jwt-secret-file or the LOGD_JWT_SECRET variable keep it out of the process list.")
    var jwtSecret: String?

    @Option(name: .long, help: "A file whose content (trailing newline ignored) is the HS256 secret of accepted JWTs.")
    var jwtSecretFile: String?

    @Option(name: .long, help: "Accept JWTs signed with ES256 by the holder of this P-256 public key (a PEM file).")
    var jwtPublicKey: String?

    @Option(name: .long, parsing: .singleValue, help: "An origin allowed to call from a browser, e.g. https://app.example.com (repeatable).")
    var corsOrigin: [String] = defaults.server.corsOrigins

    @Option(name: .long, help: "The largest request body accepted, in bytes.")
    var maxBodyBytes = defaults.server.maxBodyBytes

    @Flag(name: .long, help: "Answer 404 for unknown topics instead of creating them on produce or stream.")
    var noAutoCreate = !defaults.server.autoCreateTopics

    @Option(name: .long, help: "Create topics on produce or stream only while fewer than this many exist (PUT is bounded by --max-partitions only).")
    var autoCreateMaxTopics = defaults.server.autoCreateMaxTopics ?? Int.max

    @Option(name: .long, help: "Seconds between keepalive comments on idle streams.")
    var keepaliveSeconds = defaults.server.keepaliveInterval.wholeSeconds

    @Option(name: .long, help: "The reconnection delay sent to stream clients (retry:), in milliseconds.")
    var retryMs = Int(defaults.server.retryDelay.wholeMilliseconds)

    @Option(name: .long, help: "Open streams (SSE and WebSocket) at most.")
    var maxStreams = defaults.server.maxStreams

    @Option(name: .long, help: "Open connections at most; beyond it, 503 with Retry-After (streams: 200 with retry:). Unlimited when absent.")
    var maxConnections: Int?

    @Option(name: .long, help: "Seconds a stream may make no write progress (its client reads nothing) before it is closed; 0 turns it off.")
    var stuckStreamTimeoutSeconds = defaults.server.stuckStreamTimeout?.wholeSeconds ?? 0

    @Option(name: .long, help: "The largest request head (request line and headers) accepted, in bytes; larger ones get 431.")
    var maxHeaderBytes = defaults.server.maxHeaderBytes

    @Option(name: .long, help: "Seconds a request head may take from its first byte to its end; slower ones get 408 and are closed.")
    var headerTimeoutSeconds = defaults.server.headerTimeout.wholeSeconds

    @Option(name: .long, help: "Seconds a connection may stay silent between requests (keep-alive) or in the middle of a body before it is closed.")
    var idleTimeoutSeconds = defaults.server.idleTimeout.wholeSeconds

    @Option(name: .long, help: "On SIGTERM or SIGINT, seconds connections have to finish before every one still open is closed.")
    var shutdownGraceSeconds = defaults.server.shutdownGracePeriod.wholeSeconds

    @Option(name: .long, help: "Requests per second per token (or client address); unlimited when absent.")
    var rateLimit: Double?

    @Option(name: .long, help: "A configuration file: one `flag-name = value` per line (# comments); command-line flags win.")
    var config: String?

    @Option(name: .long, help: "Partitions of topics created without settings (auto-creation).")
    var defaultPartitions = defaults.store.defaultTopicConfiguration.partitions

    @Option(name: .long, help: "Durability of topics created without settings: fsync, none, interval (every second) or interval:MS.")
    var defaultDurability = defaults.store.defaultTopicConfiguration.durability.description

    @Option(name: .long, help: "Compression of topics created without settings: none, lz4 or zstd.")
    var defaultCompression = defaults.store.defaultTopicConfiguration.compression.description

    @Option(name: .long, help: "Segment size of topics created without settings, in bytes.")
    var defaultSegmentBytes = defaults.store.defaultTopicConfiguration.segmentBytes

    @Option(name: .long, help: "Milliseconds between background cleaner runs (retention, compaction); 0 turns it off.")
    var cleanerIntervalMs = Int(defaults.store.cleanerInterval?.wholeMilliseconds ?? 0)

    @Option(name: .long, help: "The cleaner's I/O budget in bytes per second (read plus write); 0 for unlimited.")
    var cleanerBytesPerSecond = defaults.store.compaction.bytesPerSecond ?? 0

    @Option(name: .long, help: "Threads for file I/O (writes, syncs, reads). Retention and compaction have a thread of their own.")
    var ioThreads = defaults.store.ioThreads

    @Option(name: .long, help: "Partitions of all topics together at most (internal ones not counted); a PUT, a growth or an auto-creation past it is refused. 10000 by default, fewer when the descriptor limit has no room for them (see Docs/OPERATIONS.md).")
    var maxPartitions: Int?

    @Option(name: .long, help: "Minutes the commits of a consumer group without members are kept after its newest commit; 0 keeps them forever.")
    var offsetsRetentionMinutes = (defaults.server.offsetsRetention?.wholeSeconds ?? 0) / 60

    @Option(name: .long, help: "The Kafka listener's HOST:PORT (port 0 picks a free one); 127.0.0.1:9092 when absent; an empty value turns it off.")
    var kafkaListen: String?

    @Option(name: .long, help: "The host the Kafka listener tells clients to connect to; the listen host when absent.")
    var kafkaAdvertisedHost: String?

    /// Reads `--config FILE` before parsing: its lines become flags placed before the
    /// command line's own, so that a flag given on the command line wins.
    static func main() async {
        let arguments: [String]
        do {
            arguments = try ConfigurationFile.expanding(Array(CommandLine.arguments.dropFirst()))
        } catch {
            fail("logd: \(error)")
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    func validate() throws {
        _ = try logdConfiguration()
        do { _ = try kafkaConfiguration(authenticator: nil) } catch { throw ValidationError("--kafka-listen: \(error)") }
    }

    /// The configuration the flags name: the defaults, with each flag given written over them.
    func logdConfiguration() throws -> LogdConfiguration {
        var c = defaults
        c.dataDirectory = dataDir
        c.host = host
        c.port = port
        c.tlsCertificateFile = tlsCertificate
        c.tlsKeyFile = tlsKey
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("--log-level \(logLevel) is not a level.") }
        c.logLevel = level

        var topics = c.store.defaultTopicConfiguration
        topics.partitions = defaultPartitions
        guard let codec = CompressionCodec(name: defaultCompression) else {
            throw ValidationError("--default-compression must be none, lz4 or zstd.")
        }
        topics.compression = codec
        guard let durability = Durability(parsing: defaultDurability) else {
            throw ValidationError("--default-durability must be fsync, none, interval or interval:MS.")
        }
        topics.durability = durability
        topics.segmentBytes = defaultSegmentBytes
        c.store.defaultTopicConfiguration = topics
        c.store.ioThreads = ioThreads
        c.store.maxPartitions = maxPartitions ?? defaults.store.maxPartitions
        c.store.cleanerInterval = cleanerIntervalMs == 0 ? nil : .milliseconds(cleanerIntervalMs)
        c.store.compaction.bytesPerSecond = cleanerBytesPerSecond == 0 ? nil : cleanerBytesPerSecond

        c.server.authTokens = authToken
        c.server.jwtKeys = try LogdConfiguration.jwtKeys(
            secret: jwtSecret, secretFile: jwtSecretFile, environmentSecret: getenv("LOGD_JWT_SECRET").map { String(cString: $0) },
            publicKeyFile: jwtPublicKey)
        c.server.corsOrigins = corsOrigin
        c.server.maxBodyBytes = maxBodyBytes
        c.server.autoCreateTopics = !noAutoCreate
        c.server.autoCreateMaxTopics = autoCreateMaxTopics
        c.server.offsetsRetention = offsetsRetentionMinutes == 0 ? nil : .seconds(offsetsRetentionMinutes * 60)
        c.server.keepaliveInterval = .seconds(keepaliveSeconds)
        c.server.retryDelay = .milliseconds(retryMs)
        c.server.maxStreams = maxStreams
        c.server.requestsPerSecond = rateLimit ?? defaults.server.requestsPerSecond
        c.server.maxConnections = maxConnections ?? defaults.server.maxConnections
        c.server.stuckStreamTimeout = stuckStreamTimeoutSeconds == 0 ? nil : .seconds(stuckStreamTimeoutSeconds)
        c.server.maxHeaderBytes = maxHeaderBytes
        c.server.http2MaxConcurrentStreams = http2MaxConcurrentStreams
        c.server.headerTimeout = .seconds(headerTimeoutSeconds)
        c.server.idleTimeout = .seconds(idleTimeoutSeconds)
        c.server.shutdownGracePeriod = .seconds(shutdownGraceSeconds)
        do {
            try c.validate()
        } catch {
            throw ValidationError(error.message)
        }
        return c
    }

    func run() async throws {
        var configuration = try logdConfiguration()
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "logd")

        // TLS first: a certificate or key that cannot be used stops logd before it opens anything.
        var tls: TLSCredentials?
        if let certificatePath = configuration.tlsCertificateFile, let keyPath = configuration.tlsKeyFile {
            do {
                tls = try TLSCredentials(certificatePath: certificatePath, keyPath: keyPath, logger: logger)
            } catch {
                Self.fail("logd: cannot use the TLS certificate: \(error.message)")
            }
        }
        // SIGHUP reloads the certificate and key; trapped before anything listens, so that a
        // SIGHUP sent as soon as logd says it listens reloads rather than ends the process.
        var reloader: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let tls {
            reloader = [.init(service: tls.reloader(on: await UnixSignalsSequence(trapping: .sighup)))]
        }

        // Partitions and connections hold descriptors (Docs/OPERATIONS.md): the soft limit goes
        // up to the hard one, and the default --max-partitions down to what fits in it.
        if let limit = DescriptorLimit.raiseToHardLimit(), let maxPartitions = configuration.store.maxPartitions {
            let connections = (configuration.server.maxConnections ?? configuration.server.maxStreams)
                + (try kafkaConfiguration(authenticator: nil)?.maxConnections ?? 0)
            let budget = DescriptorLimit.partitionBudget(limit: limit, connections: connections)
            if budget < maxPartitions {
                if self.maxPartitions == nil {
                    configuration.store.maxPartitions = budget
                    logger.notice("--max-partitions lowered to what the descriptor limit has room for", metadata: [
                        "max_partitions": "\(budget)", "descriptor_limit": "\(limit)", "connections": "\(connections)",
                    ])
                } else {
                    logger.warning("the descriptor limit may be too low for --max-partitions", metadata: [
                        "max_partitions": "\(maxPartitions)", "room_for": "\(budget)", "descriptor_limit": "\(limit)",
                        "connections": "\(connections)",
                    ])
                }
            }
        }

        let dataDirectory = configuration.dataDirectory
        let store: LogStore
        do {
            store = try await LogStore.open(at: dataDirectory, options: configuration.store, logger: logger)
        } catch LogError.Code.locked {
            Self.fail("logd: the data directory \(dataDirectory) is locked by another logd process.")
        } catch {
            Self.fail("logd: cannot open the data directory \(dataDirectory): \(error)")
        }

        let server = LogServer(store: store, configuration: configuration.server, logger: logger)
        let router = Router(context: LogRequestContext.self)
        server.addMiddleware(to: router)
        server.addRoutes(to: router)
        server.addWebSocketRoutes(to: router)

        let (host, port, scheme) = (configuration.host, configuration.port, configuration.usesTLS ? "https" : "http")
        if !configuration.requiresAuthentication, !configuration.listensOnLoopback {
            logger.warning("Authentication is off and logd listens on \(host): anyone who can reach it can read and write.")
        }

        // No Hummingbird `Application`: the listener hands each connection to its pipeline,
        // with no task per HTTP/1.1 connection (HTTPListener.swift, ADR 0005). A deep accept
        // queue: a storm of thousands of stream connections (browsers reconnecting after a
        // restart) waits in it instead of being dropped and retried a second later by the
        // client's SYN timer. The kernel caps it at somaxconn.
        let app = server.httpListener(router: router, tls: tls, host: host, port: port, backlog: 4096, shortcuts: true) { boundPort in
            let shownHost = host.contains(":") ? "[\(host)]" : host
            StandardStream.output.writeLine("logd listening on \(scheme)://\(shownHost):\(boundPort)")
        }

        var kafka: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // With authentication on, Kafka clients authenticate with SASL/PLAIN: the password is a
        // static token or a JWT, checked as over HTTP, and grants what it grants over HTTP.
        let passwordCheck = configuration.requiresAuthentication ? Self.kafkaPasswordCheck(server) : nil
        if var configuration = try kafkaConfiguration(authenticator: passwordCheck) {
            (configuration.autoCreateTopics, configuration.autoCreateMaxTopics) = (!noAutoCreate, autoCreateMaxTopics)
            let listener = try KafkaListener(store: store, groups: { try await server.groupCoordinator() },
                                             configuration: configuration, logger: logger) { host, port in
                StandardStream.output.writeLine("logd kafka listening on \(host.contains(":") ? "[\(host)]" : host):\(port)")
            }
            kafka = [.init(service: listener, successTerminationBehavior: .ignore)]
        }

        // Shut down in reverse order: the Kafka listener and streams end first, then the HTTP server, then the store.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: LogStoreCloser(store: store, logger: logger)),
                    .init(service: app),
                    .init(service: server),
                ] + reloader + kafka,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            try? await store.close()
            Self.fail("logd: cannot serve on \(host):\(port): \(error)")
        }
    }

    /// The Kafka listener's settings from `--kafka-listen` and `--kafka-advertised-host`, with
    /// SASL/PLAIN checked by `authenticator` when given; `nil` when off.
    func kafkaConfiguration(authenticator: KafkaPasswordCheck?) throws -> KafkaListenerConfiguration? {
        try KafkaListenerConfiguration(listen: kafkaListen, advertisedHost: kafkaAdvertisedHost, authenticator: authenticator)
    }

    /// SASL/PLAIN for the Kafka listener: the password verified by the HTTP API's
    /// authentication, granting what the token grants over HTTP.
    static func kafkaPasswordCheck(_ server: LogServer) -> KafkaPasswordCheck {
        { @Sendable (_: String, password: String) async -> KafkaPermissions? in
            guard let verified = await server.verify(token: password) else { return nil }
            let scope = verified.scope
            return KafkaPermissions(
                lifetime: verified.lifetime,
                topic: { @Sendable (action: KafkaPermissions.TopicAction, topic: String) -> Bool in
                    switch action {
                    case .read: return scope.allows(.read, topic: topic)
                    case .write: return scope.allows(.write, topic: topic)
                    case .manage: return scope.allows(.manage, topic: topic)
                    }
                },
                group: { @Sendable (group: String) -> Bool in scope.groups.matches(group) })
        }
    }

    /// Prints one sentence on standard error and exits non-zero.
    private static func fail(_ sentence: String) -> Never {
        StandardStream.error.writeLine(sentence)
        terminate(status: 1)
    }
}

/// Ends the process with `status` (`exit(3)`).
private func terminate(status: Int32) -> Never {
    exit(status)
}
