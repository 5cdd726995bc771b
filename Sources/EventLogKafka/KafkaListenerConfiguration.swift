import EventLog
public import KafkaProtocol

/// The settings of the Kafka listener (`logd --kafka-listen`).
public struct KafkaListenerConfiguration: Sendable {
    /// The address to bind.
    public var host = "127.0.0.1"
    /// The port to bind; 0 picks a free one.
    public var port = 9092
    /// The host clients are told to connect to (Metadata's broker, FindCoordinator); the bind
    /// host when `nil`. Never a wildcard address: clients cannot connect to `0.0.0.0`.
    public var advertisedHost: String?
    /// The node id of the one broker: every partition's leader, replica and ISR, and the
    /// group coordinator.
    public var nodeId: Int32 = 1
    /// The cluster id in Metadata responses.
    public var clusterId = "logd"
    /// Whether a bind failure only logs a warning (the default address, which another `logd` or
    /// a Kafka broker may hold) instead of stopping `logd`.
    public var bindFailureIsFatal = true
    /// Create unknown topics that a Metadata request names with allow_auto_topic_creation set.
    public var autoCreateTopics = true
    /// Create topics only while fewer than this many exist.
    public var autoCreateMaxTopics: Int?
    /// The largest request frame accepted; a larger size prefix closes the connection before
    /// anything is read. Kafka's `socket.request.max.bytes` is 100 MiB; a produce batch is at
    /// most a topic's `maxBatchBytes` (16 MiB by default) anyway.
    public var maxFrameBytes = 32 << 20
    /// Open connections at most; beyond it, new ones are closed at once.
    public var maxConnections = 1024
    /// A connection from which nothing was read this long is closed (Kafka's
    /// `connections.max.idle.ms`, 10 minutes). Clients reconnect when they need to.
    public var idleTimeout: Duration = .seconds(600)
    /// The longest a Fetch may wait for data, whatever its max_wait_ms says.
    public var maxFetchWait: Duration = .seconds(30)
    /// The most record bytes one Fetch answer carries, whatever its max_bytes and
    /// partition_max_bytes say (Kafka's broker `fetch.max.bytes`, 55 MiB): a client asking for
    /// 2 GiB gets this much, plus at most one whole batch past it (KIP-74).
    public var maxFetchBytes = 64 << 20
    /// The APIs and versions advertised: the ones this listener serves (with the SASL APIs
    /// when ``authenticator`` is set).
    public var advertised = KafkaListenerConfiguration.served
    /// When set, every connection authenticates first with SASL/PLAIN (SaslHandshake,
    /// SaslAuthenticate), its password checked by this, and may then do what it returns.
    public var authenticator: KafkaPasswordCheck? {
        didSet { advertised = authenticator == nil ? Self.served : Self.servedWithSASL }
    }

    /// The APIs this listener serves: issue 13's table (``ApiVersionsTable/standard``):
    /// Produce 3–8, Fetch 4–11, ListOffsets 1–5, Metadata 1–8, OffsetCommit 2–7, OffsetFetch
    /// 1–5, FindCoordinator 0–2, JoinGroup 0–5, Heartbeat 0–3, LeaveGroup 0–3, SyncGroup 0–3,
    /// ApiVersions 0–2 and InitProducerId 0–1; and the admin APIs DescribeGroups 0–4 and
    /// ListGroups 0–2.
    public static let served = ApiVersionsTable(
        ApiVersionsTable.standard.entries + [.init(.describeGroups, 0...4), .init(.listGroups, 0...2)])

    /// ``served`` and SaslHandshake 0–1 and SaslAuthenticate 0–1: the table while
    /// authentication is on.
    public static let servedWithSASL = ApiVersionsTable(
        served.entries + [.init(.saslHandshake, 0...1), .init(.saslAuthenticate, 0...1)])

    /// The default settings.
    public init() {}

    /// `HOST:PORT` (IPv6 as `[::1]:9092`) as a host and port.
    ///
    /// - Throws: ``KafkaListenerConfigurationError`` with one sentence when it is not one.
    public static func parseAddress(_ text: String) throws(KafkaListenerConfigurationError) -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":") else {
            throw KafkaListenerConfigurationError("\(text) is not HOST:PORT.")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw KafkaListenerConfigurationError("\(text) is not HOST:PORT with a port from 0 to 65535.")
        }
        return (host, port)
    }

    /// The advertised host, checked: never a wildcard address.
    public func checkedAdvertisedHost() throws(KafkaListenerConfigurationError) -> String {
        let advertised = advertisedHost ?? host
        guard !["0.0.0.0", "::", ""].contains(advertised) else {
            throw KafkaListenerConfigurationError("the Kafka listener binds \(host), which clients cannot connect to: give --kafka-advertised-host.")
        }
        return advertised
    }
}

/// A Kafka listener setting that cannot work, in one sentence.
public struct KafkaListenerConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The sentence.
    public var description: String
    init(_ description: String) { self.description = description }
}

extension KafkaListenerConfiguration {
    /// The configuration `logd --kafka-listen LISTEN --kafka-advertised-host HOST` asks for, or
    /// `nil` when the listener is off (`listen` is empty). Without `listen`, 127.0.0.1:9092,
    /// where a failed bind (the port taken) only logs a warning; a given address must be bound.
    /// With an `authenticator` (authentication is on), clients authenticate with SASL/PLAIN.
    ///
    /// - Throws: ``KafkaListenerConfigurationError`` for an address that is not `HOST:PORT`, or
    ///   a wildcard bind address without an advertised host.
    public init?(listen: String?, advertisedHost: String?, authenticator: KafkaPasswordCheck?) throws(KafkaListenerConfigurationError) {
        if listen == "" { return nil }
        self.init()
        if let listen {
            (host, port) = try Self.parseAddress(listen)
        } else {
            bindFailureIsFatal = false
        }
        self.advertisedHost = advertisedHost
        self.authenticator = authenticator
        advertised = authenticator == nil ? Self.served : Self.servedWithSASL   // no didSet in an initialiser
        _ = try checkedAdvertisedHost()
    }
}
