import ArgumentParser
import EventLog
import EventLogKafka
import EventLogServer
import Hummingbird
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `logd`: serves an EventLog data directory over HTTP. Wiring only: flags, store, server, service group.
@main
struct Logd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logd",
        abstract: "A durable, append-only event log served over HTTP (REST, Server-Sent Events, WebSocket)."
    )

    @Option(name: .long, help: "The data directory; created when missing.")
    var dataDir = "./logd-data"

    @Option(name: .long, help: "The address to listen on. Without --auth-token or a JWT key, keep it on loopback.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "The port to listen on; 0 picks a free one.")
    var port = 8080

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, parsing: .singleValue, help: "A bearer token that grants all access (repeatable). Without any, and without a JWT key, authentication is off.")
    var authToken: [String] = []

    @Option(name: .long, help: "Accept JWTs signed with this HS256 secret (32 bytes or more). --jwt-secret-file or the LOGD_JWT_SECRET variable keep it out of the process list.")
    var jwtSecret: String?

    @Option(name: .long, help: "A file whose content (trailing newline ignored) is the HS256 secret of accepted JWTs.")
    var jwtSecretFile: String?

    @Option(name: .long, help: "Accept JWTs signed with ES256 by the holder of this P-256 public key (a PEM file).")
    var jwtPublicKey: String?

    @Option(name: .long, parsing: .singleValue, help: "An origin allowed to call from a browser, e.g. https://app.example.com (repeatable).")
    var corsOrigin: [String] = []

    @Option(name: .long, help: "The largest request body accepted, in bytes.")
    var maxBodyBytes = 8 << 20

    @Flag(name: .long, help: "Answer 404 for unknown topics instead of creating them on produce or stream.")
    var noAutoCreate = false

    @Option(name: .long, help: "Create topics on produce or stream only while fewer than this many exist (PUT is not limited).")
    var autoCreateMaxTopics = 1_000

    @Option(name: .long, help: "Seconds between keepalive comments on idle streams.")
    var keepaliveSeconds = 15

    @Option(name: .long, help: "The reconnection delay sent to stream clients (retry:), in milliseconds.")
    var retryMs = 2000

    @Option(name: .long, help: "Open streams (SSE and WebSocket) at most.")
    var maxStreams = 10_000

    @Option(name: .long, help: "Open connections at most; beyond it, 503 with Retry-After (streams: 200 with retry:). Unlimited when absent.")
    var maxConnections: Int?

    @Option(name: .long, help: "Seconds a stream may make no write progress (its client reads nothing) before it is closed; 0 turns it off.")
    var stuckStreamTimeoutSeconds = 60

    @Option(name: .long, help: "The largest request head (request line and headers) accepted, in bytes; larger ones get 431.")
    var maxHeaderBytes = 32 << 10

    @Option(name: .long, help: "Seconds a request head may take from its first byte to its end; slower ones get 408 and are closed.")
    var headerTimeoutSeconds = 10

    @Option(name: .long, help: "Seconds a connection may stay silent between requests (keep-alive) or in the middle of a body before it is closed.")
    var idleTimeoutSeconds = 60

    @Option(name: .long, help: "On SIGTERM or SIGINT, seconds connections have to finish before every one still open is closed.")
    var shutdownGraceSeconds = 10

    @Option(name: .long, help: "Requests per second per token (or client address); unlimited when absent.")
    var rateLimit: Double?

    @Option(name: .long, help: "A configuration file: one `flag-name = value` per line (# comments); command-line flags win.")
    var config: String?

    @Option(name: .long, help: "Partitions of topics created without settings (auto-creation).")
    var defaultPartitions = 1

    @Option(name: .long, help: "Durability of topics created without settings: fsync, none or interval:MS.")
    var defaultDurability = "fsync"

    @Option(name: .long, help: "Compression of topics created without settings: none, lz4 or zstd.")
    var defaultCompression = "none"

    @Option(name: .long, help: "Segment size of topics created without settings, in bytes.")
    var defaultSegmentBytes: Int64 = 1 << 30

    @Option(name: .long, help: "Milliseconds between background cleaner runs (retention, compaction); 0 turns it off.")
    var cleanerIntervalMs = 15_000

    @Option(name: .long, help: "The cleaner's I/O budget in bytes per second (read plus write); 0 for unlimited.")
    var cleanerBytesPerSecond = 128 << 20

    @Option(name: .long, help: "Threads for file I/O (writes, syncs, reads). Retention and compaction have a thread of their own.")
    var ioThreads = 4

    @Option(name: .long, help: "Minutes the commits of a consumer group without members are kept after its newest commit; 0 keeps them forever.")
    var offsetsRetentionMinutes = 7 * 24 * 60

    @Option(name: .long, help: "The Kafka listener's HOST:PORT (port 0 picks a free one); 127.0.0.1:9092 when absent; an empty value turns it off.")
    var kafkaListen: String?

    @Option(name: .long, help: "The host the Kafka listener tells clients to connect to; the listen host when absent.")
    var kafkaAdvertisedHost: String?

    /// Reads `--config FILE` before parsing: its lines become flags placed before the
    /// command line's own, so that a flag given on the command line wins.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let i = arguments.firstIndex(of: "--config"), i + 1 < arguments.count {
            do {
                arguments = try configurationArguments(path: arguments[i + 1]) + arguments
            } catch {
                fail("logd: \(error)")
            }
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

    /// `key = value` lines as `--key value` arguments.
    static func configurationArguments(path: String) throws -> [String] {
        guard let file = fopen(path, "r") else {
            throw ValidationError("cannot read the configuration file \(path): \(String(cString: strerror(errno))).")
        }
        defer { fclose(file) }
        var out: [String] = []
        var lineNumber = 0
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            lineNumber += 1
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .trimmingCharacters(in: [" ", "\t", "\n", "\r"])
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: [" ", "\t"]) }
            guard let key = parts.first, !key.isEmpty, key != "config" else {
                throw ValidationError("\(path):\(lineNumber): expected `flag-name = value`.")
            }
            if parts.count == 1 || parts[1] == "true" {
                out.append("--\(key)")
            } else if parts[1] != "false" {
                out += ["--\(key)", parts[1]]
            }
        }
        return out
    }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level.") }
        guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be positive.") }
        guard keepaliveSeconds > 0 else { throw ValidationError("--keepalive-seconds must be positive.") }
        guard autoCreateMaxTopics >= 0 else { throw ValidationError("--auto-create-max-topics must not be negative.") }
        guard (0...(100 * 365 * 24 * 60)).contains(offsetsRetentionMinutes) else {
            throw ValidationError("--offsets-retention-minutes must be between 0 and \(100 * 365 * 24 * 60).")
        }
        _ = try topicDefaults()
        guard ioThreads > 0 && ioThreads <= 256 else { throw ValidationError("--io-threads must be between 1 and 256.") }
        guard cleanerIntervalMs >= 0, cleanerBytesPerSecond >= 0 else { throw ValidationError("cleaner settings must not be negative.") }
        if let maxConnections, maxConnections <= 0 { throw ValidationError("--max-connections must be positive.") }
        guard stuckStreamTimeoutSeconds >= 0 else { throw ValidationError("--stuck-stream-timeout-seconds must not be negative.") }
        guard (1024...(1 << 20)).contains(maxHeaderBytes) else { throw ValidationError("--max-header-bytes must be between 1024 and 1048576.") }
        guard (1...3600).contains(headerTimeoutSeconds) else { throw ValidationError("--header-timeout-seconds must be between 1 and 3600.") }
        guard (1...86_400).contains(idleTimeoutSeconds) else { throw ValidationError("--idle-timeout-seconds must be between 1 and 86400.") }
        guard (0...3600).contains(shutdownGraceSeconds) else { throw ValidationError("--shutdown-grace-seconds must be between 0 and 3600.") }
        if let rateLimit, rateLimit <= 0 { throw ValidationError("--rate-limit must be positive.") }
        _ = try jwtKeys()
        do { _ = try kafkaConfiguration() } catch { throw ValidationError("--kafka-listen: \(error)") }
    }

    /// The JWT keys the flags (and `LOGD_JWT_SECRET`) name, each checked.
    func jwtKeys() throws -> [JWTVerificationKey] {
        var keys: [JWTVerificationKey] = []
        let secrets = [jwtSecret, try jwtSecretFile.map { try Self.readText($0) }, getenv("LOGD_JWT_SECRET").map { String(cString: $0) }]
        if let secret = secrets.compactMap({ $0 }).first(where: { !$0.isEmpty }) {
            keys.append(.hmacSHA256(secret: secret))
        }
        if let jwtPublicKey { keys.append(.ecdsaP256(publicKeyPEM: try Self.readText(jwtPublicKey))) }
        for key in keys {
            do { try key.validate() } catch { throw ValidationError(error.description) }
        }
        return keys
    }

    /// A small text file, without its trailing newline.
    static func readText(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else {
            throw ValidationError("cannot read \(path): \(String(cString: strerror(errno))).")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= 1 << 20 {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "logd")

        let defaults = try topicDefaults()
        var options = LogStore.Options()
        options.defaultTopicConfiguration = defaults
        options.ioThreads = ioThreads
        options.cleanerIntervalMilliseconds = cleanerIntervalMs > 0 ? cleanerIntervalMs : nil
        options.compaction.bytesPerSecond = cleanerBytesPerSecond > 0 ? cleanerBytesPerSecond : nil
        let store: LogStore
        do {
            store = try await LogStore.open(at: dataDir, options: options, logger: logger)
        } catch LogError.Code.locked {
            Self.fail("logd: the data directory \(dataDir) is locked by another logd process.")
        } catch {
            Self.fail("logd: cannot open the data directory \(dataDir): \(error)")
        }

        var serverConfiguration = LogServerConfiguration()
        serverConfiguration.authTokens = authToken
        serverConfiguration.jwtKeys = try jwtKeys()
        serverConfiguration.corsOrigins = corsOrigin
        serverConfiguration.maxBodyBytes = maxBodyBytes
        serverConfiguration.autoCreateTopics = !noAutoCreate
        serverConfiguration.autoCreateMaxTopics = autoCreateMaxTopics
        serverConfiguration.offsetsRetention = offsetsRetentionMinutes > 0 ? .seconds(offsetsRetentionMinutes * 60) : nil
        serverConfiguration.keepaliveInterval = .seconds(keepaliveSeconds)
        serverConfiguration.retryMilliseconds = retryMs
        serverConfiguration.maxStreams = maxStreams
        serverConfiguration.requestsPerSecond = rateLimit
        serverConfiguration.maxConnections = maxConnections
        serverConfiguration.stuckStreamTimeout = stuckStreamTimeoutSeconds > 0 ? .seconds(stuckStreamTimeoutSeconds) : nil
        serverConfiguration.maxHeaderBytes = maxHeaderBytes
        serverConfiguration.headerTimeout = .seconds(headerTimeoutSeconds)
        serverConfiguration.idleTimeout = .seconds(idleTimeoutSeconds)
        serverConfiguration.shutdownGracePeriod = .seconds(shutdownGraceSeconds)
        serverConfiguration.topicDefaults = defaults
        serverConfiguration.compactionLimits = options.compaction
        let server = LogServer(store: store, configuration: serverConfiguration, logger: logger)

        let router = Router(context: LogRequestContext.self)
        server.addMiddleware(to: router)
        server.addRoutes(to: router)
        server.addWebSocketRoutes(to: router)

        if authToken.isEmpty, serverConfiguration.jwtKeys.isEmpty, !["127.0.0.1", "::1", "localhost"].contains(host) {
            logger.warning("Authentication is off and logd listens on \(host): anyone who can reach it can read and write.")
        }

        let app = Application(
            router: router,
            server: server.httpServer(webSocketRouter: router),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let boundPort = channel.localAddress?.port ?? port
                let shownHost = host.contains(":") ? "[\(host)]" : host
                // write(2) on the descriptor: unbuffered, so the line is out before anything else.
                writeLine("logd listening on http://\(shownHost):\(boundPort)", to: STDOUT_FILENO)
            },
            logger: logger
        )

        var kafka: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if var configuration = try kafkaConfiguration() {
            (configuration.autoCreateTopics, configuration.autoCreateMaxTopics, configuration.topicDefaults) = (!noAutoCreate, autoCreateMaxTopics, defaults)
            let listener = try KafkaListener(store: store, configuration: configuration, logger: logger) { host, port in
                writeLine("logd kafka listening on \(host.contains(":") ? "[\(host)]" : host):\(port)", to: STDOUT_FILENO)
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
                ] + kafka,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            try? await store.close()
            Self.fail("logd: cannot serve on \(host):\(port): \(Self.describe(error))")
        }
    }

    /// The Kafka listener's settings from `--kafka-listen` and `--kafka-advertised-host`; `nil` when off.
    func kafkaConfiguration() throws -> KafkaListenerConfiguration? {
        let authenticated = try !authToken.isEmpty || !jwtKeys().isEmpty
        return try KafkaListenerConfiguration(listen: kafkaListen, advertisedHost: kafkaAdvertisedHost, authenticationRequired: authenticated)
    }

    /// The settings of topics created without any, from the `--default-*` flags.
    func topicDefaults() throws -> TopicConfiguration {
        var c = TopicConfiguration()
        c.partitions = defaultPartitions
        guard let codec = CompressionCodec(name: defaultCompression) else {
            throw ValidationError("--default-compression must be none, lz4 or zstd.")
        }
        c.compression = codec
        switch defaultDurability {
        case "fsync": c.durability = .fsync
        case "none": c.durability = .none
        case let d where d.hasPrefix("interval:"):
            guard let ms = Int(d.dropFirst("interval:".count)), ms > 0 else { throw ValidationError("--default-durability interval:MS needs a positive MS.") }
            c.durability = .interval(milliseconds: ms)
        case "interval": c.durability = .interval(milliseconds: 1000)
        default: throw ValidationError("--default-durability must be fsync, none or interval:MS.")
        }
        c.segmentBytes = defaultSegmentBytes
        do { try c.validate() } catch { throw ValidationError(error.message) }
        return c
    }

    /// The error as one sentence, unwrapping the service group's wrapper.
    private static func describe(_ error: any Error) -> String {
        "\(error)"
    }

    /// Prints one sentence on standard error and exits non-zero.
    private static func fail(_ sentence: String) -> Never {
        writeLine(sentence, to: STDERR_FILENO)
        terminate(status: 1)
    }
}

/// Writes one line to a file descriptor with `write(2)`, unbuffered.
func writeLine(_ line: String, to descriptor: Int32) {
    var bytes = Array((line + "\n").utf8)
    var written = 0
    while written < bytes.count {
        let result = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
        if result <= 0 { return }
        written += result
    }
}

/// Ends the process with `status`.
func terminate(status: Int32) -> Never {
    exit(status)
}
