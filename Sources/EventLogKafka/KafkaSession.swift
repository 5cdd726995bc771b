/// What the broker remembers of one connection between its requests: where it comes from,
/// and, when SASL is required, how far its authentication got and what it may do.
public struct KafkaSession: Sendable {
    /// Where a connection stands in SASL authentication.
    enum Authentication: Sendable, Equatable {
        /// Authentication is off: everything is allowed.
        case off
        /// Only ApiVersions and SaslHandshake are answered.
        case awaitingHandshake
        /// After SaslHandshake v1: only ApiVersions and SaslAuthenticate.
        case awaitingAuthenticate
        /// After SaslHandshake v0: the next frame is the client's token, without a header.
        case awaitingRawToken
        /// Requests are served, within ``KafkaSession/permissions``.
        case authenticated
    }

    /// Where the client connects from, as Kafka shows it (`/127.0.0.1`).
    public var clientHost: String
    /// The client id of the connection's last request header.
    public var clientID: String?
    var authentication: Authentication
    /// What the connection may do.
    var permissions: KafkaPermissions
    /// When the authentication stops holding (a JWT's expiry).
    var authenticatedUntil: ContinuousClock.Instant?

    /// A connection from `clientHost`, which must authenticate first when `requiresAuthentication`.
    public init(clientHost: String = "", requiresAuthentication: Bool = false) {
        self.clientHost = clientHost
        self.authentication = requiresAuthentication ? .awaitingHandshake : .off
        self.permissions = requiresAuthentication ? .none : .all
    }
}
