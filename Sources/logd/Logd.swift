import ArgumentParser
import EventLog
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

    @Option(name: .long, help: "The address to listen on. Without --auth-token, keep it on loopback.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "The port to listen on; 0 picks a free one.")
    var port = 8080

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, parsing: .singleValue, help: "A bearer token that grants access (repeatable). Without any, authentication is off.")
    var authToken: [String] = []

    @Option(name: .long, parsing: .singleValue, help: "An origin allowed to call from a browser, e.g. https://app.example.com (repeatable).")
    var corsOrigin: [String] = []

    @Option(name: .long, help: "The largest request body accepted, in bytes.")
    var maxBodyBytes = 8 << 20

    @Flag(name: .long, help: "Answer 404 for unknown topics instead of creating them on produce or stream.")
    var noAutoCreate = false

    @Option(name: .long, help: "Seconds between keepalive comments on idle streams.")
    var keepaliveSeconds = 15

    @Option(name: .long, help: "The reconnection delay sent to stream clients (retry:), in milliseconds.")
    var retryMs = 2000

    @Option(name: .long, help: "Open streams (SSE and WebSocket) at most.")
    var maxStreams = 10_000

    @Option(name: .long, help: "Requests per second per token (or client address); unlimited when absent.")
    var rateLimit: Double?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level.") }
        guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be positive.") }
        guard keepaliveSeconds > 0 else { throw ValidationError("--keepalive-seconds must be positive.") }
        if let rateLimit, rateLimit <= 0 { throw ValidationError("--rate-limit must be positive.") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "logd")

        let store: LogStore
        do {
            store = try await LogStore.open(at: dataDir, logger: logger)
        } catch LogError.Code.locked {
            Self.fail("logd: the data directory \(dataDir) is locked by another logd process.")
        } catch {
            Self.fail("logd: cannot open the data directory \(dataDir): \(error)")
        }

        var serverConfiguration = LogServerConfiguration()
        serverConfiguration.authTokens = authToken
        serverConfiguration.corsOrigins = corsOrigin
        serverConfiguration.maxBodyBytes = maxBodyBytes
        serverConfiguration.autoCreateTopics = !noAutoCreate
        serverConfiguration.keepaliveInterval = .seconds(keepaliveSeconds)
        serverConfiguration.retryMilliseconds = retryMs
        serverConfiguration.maxStreams = maxStreams
        serverConfiguration.requestsPerSecond = rateLimit
        let server = LogServer(store: store, configuration: serverConfiguration, logger: logger)

        let router = Router(context: LogRequestContext.self)
        server.addMiddleware(to: router)
        server.addRoutes(to: router)
        server.addWebSocketRoutes(to: router)

        if authToken.isEmpty, !["127.0.0.1", "::1", "localhost"].contains(host) {
            logger.warning("Authentication is off and logd listens on \(host): anyone who can reach it can read and write.")
        }

        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let boundPort = channel.localAddress?.port ?? port
                let shownHost = host.contains(":") ? "[\(host)]" : host
                // write(2) on the descriptor: unbuffered, so the line is out before anything else.
                writeLine("logd listening on http://\(shownHost):\(boundPort)", to: STDOUT_FILENO)
            },
            logger: logger
        )

        // Shut down in reverse order: streams end first, then the HTTP server, then the store.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: LogStoreCloser(store: store, logger: logger)),
                    .init(service: app),
                    .init(service: server),
                ],
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
