public import EventLog
public import Logging

/// Everything `logd` runs with: where it listens, the store's options and the HTTP layer's.
///
/// The one source of `logd`'s defaults: its command-line flags and configuration file
/// (``ConfigurationFile``) start from ``init()`` and change only what they name, and
/// ``validate()`` checks every range before anything opens.
public struct LogdConfiguration: Sendable {
    /// The data directory; created when missing.
    public var dataDirectory = "./logd-data"
    /// The address to listen on. Without authentication, keep it on loopback.
    public var host = "127.0.0.1"
    /// The port to listen on; 0 picks a free one.
    public var port = 8080
    /// The PEM file of the TLS certificate chain (the server's own certificate first); with
    /// ``tlsKeyFile``, the listener speaks HTTPS (HTTP/2 and HTTP/1.1 by ALPN). Both are read
    /// again on `SIGHUP`. `nil`: plain HTTP (HTTP/1.1, and h2c with prior knowledge).
    public var tlsCertificateFile: String? = nil
    /// The PEM file of the TLS certificate's private key.
    public var tlsKeyFile: String? = nil
    /// The least severe level logged.
    public var logLevel: Logger.Level = .info
    /// The store's options: the settings of topics created without any (auto-creation, and
    /// what `PUT` does not set), I/O threads, the background cleaner, and the bound on
    /// partitions (``defaultMaxPartitions``).
    public var store: LogStore.Options = {
        var options = LogStore.Options()
        options.maxPartitions = defaultMaxPartitions
        return options
    }()
    /// The HTTP layer's limits and switches.
    public var server = LogServerConfiguration()

    /// The defaults.
    public init() {}

    /// `logd`'s bound on the partitions of all topics together (`--max-partitions`): 10,000.
    ///
    /// As many as one topic may have, so that any topic `PUT` accepts fits in an empty
    /// server; about two and a half times Kafka's guidance of some 4,000 partitions per broker,
    /// which counts replicas this server does not keep. Each partition holds at least one
    /// descriptor (Docs/OPERATIONS.md): 10,000 fit with room to spare in the hard limit of
    /// a systemd service (524,288), to which `logd` raises its soft limit at start.
    public static let defaultMaxPartitions = 10_000

    /// The longest consumer group commit retention accepted: a hundred years.
    public static let maxOffsetsRetention: Duration = .seconds(100 * 365 * 24 * 3600)

    /// Checks every setting's range.
    ///
    /// - Throws: ``ConfigurationError`` naming the first setting out of range by its flag.
    public func validate() throws(ConfigurationError) {
        func check(_ condition: Bool, _ message: @autoclosure () -> String) throws(ConfigurationError) {
            if !condition { throw ConfigurationError(message()) }
        }
        try check((0...65535).contains(port), "--port must be between 0 and 65535.")
        try check((tlsCertificateFile == nil) == (tlsKeyFile == nil), "--tls-certificate and --tls-key go together: give both or neither.")
        try check((1...10_000).contains(server.http2MaxConcurrentStreams), "--http2-max-concurrent-streams must be between 1 and 10000.")
        try check(server.maxBodyBytes > 0, "--max-body-bytes must be positive.")
        try check(server.keepaliveInterval > .zero, "--keepalive-seconds must be positive.")
        try check(server.retryDelay >= .zero, "--retry-ms must not be negative.")
        try check(server.maxStreams >= 0, "--max-streams must not be negative.")
        try check((server.autoCreateMaxTopics ?? 0) >= 0, "--auto-create-max-topics must not be negative.")
        if let retention = server.offsetsRetention {
            try check(retention > .zero && retention <= Self.maxOffsetsRetention,
                      "--offsets-retention-minutes must be between 0 and \(100 * 365 * 24 * 60).")
        }
        do {
            try store.defaultTopicConfiguration.validate()
        } catch {
            throw ConfigurationError("the default topic settings (--default-*): \(error.message)")
        }
        try check((1...256).contains(store.ioThreads), "--io-threads must be between 1 and 256.")
        try check((store.maxPartitions ?? 1) > 0, "--max-partitions must be positive.")
        try check((store.cleanerInterval ?? .seconds(1)) > .zero, "--cleaner-interval-ms must not be negative.")
        try check((store.compaction.bytesPerSecond ?? 1) > 0, "--cleaner-bytes-per-second must not be negative.")
        if let maxConnections = server.maxConnections { try check(maxConnections > 0, "--max-connections must be positive.") }
        try check((server.stuckStreamTimeout ?? .seconds(1)) > .zero, "--stuck-stream-timeout-seconds must not be negative.")
        try check((1024...(1 << 20)).contains(server.maxHeaderBytes), "--max-header-bytes must be between 1024 and 1048576.")
        try check((.seconds(1) ... .seconds(3600)).contains(server.headerTimeout), "--header-timeout-seconds must be between 1 and 3600.")
        try check((.seconds(1) ... .seconds(86_400)).contains(server.idleTimeout), "--idle-timeout-seconds must be between 1 and 86400.")
        try check((.zero ... .seconds(3600)).contains(server.shutdownGracePeriod), "--shutdown-grace-seconds must be between 0 and 3600.")
        if let rate = server.requestsPerSecond { try check(rate > 0, "--rate-limit must be positive.") }
        for key in server.jwtKeys {
            do { try key.validate() } catch { throw ConfigurationError(error.description) }
        }
    }

    /// Whether clients must authenticate: a static token or a JWT key is configured.
    public var requiresAuthentication: Bool { !server.authTokens.isEmpty || !server.jwtKeys.isEmpty }

    /// Whether the listener speaks TLS.
    public var usesTLS: Bool { tlsCertificateFile != nil }

    /// Whether ``host`` is a loopback address, reachable from this machine only.
    public var listensOnLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) }
}

extension LogdConfiguration {
    /// The JWT keys: an HS256 secret (the first non-empty of `secret`, the content of
    /// `secretFile`, `environmentSecret`), and an ES256 public key from a PEM file.
    ///
    /// - Throws: ``ConfigurationError`` when a file cannot be read.
    public static func jwtKeys(secret: String?, secretFile: String?, environmentSecret: String?,
                               publicKeyFile: String?) throws(ConfigurationError) -> [JWTVerificationKey] {
        var keys: [JWTVerificationKey] = []
        let secrets = [secret, try secretFile.map { path throws(ConfigurationError) in try TextFile.read(path) }, environmentSecret]
        if let secret = secrets.compactMap({ $0 }).first(where: { !$0.isEmpty }) {
            keys.append(.hmacSHA256(secret: secret))
        }
        if let publicKeyFile { keys.append(.ecdsaP256(publicKeyPEM: try TextFile.read(publicKeyFile))) }
        return keys
    }
}

extension Duration {
    /// The span in whole seconds, rounded toward zero (for flags counted in seconds).
    package var wholeSeconds: Int { Int(clamping: components.seconds) }
}
