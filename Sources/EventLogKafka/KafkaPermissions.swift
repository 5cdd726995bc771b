/// What a Kafka connection may do: everything without authentication, else what the token
/// it authenticated with grants (the same grants as over HTTP: `logd` hands in the HTTP
/// API's access scope).
///
/// Topics: `read` covers Fetch, ListOffsets, offset commits and fetches of the topic, and its
/// Metadata; `write` covers Produce (and Metadata: a producer must find its topic); `manage`
/// covers creating a topic on a Metadata request. Groups: every group API and FindCoordinator.
public struct KafkaPermissions: Sendable {
    /// What is done to a topic.
    public enum TopicAction: Sendable {
        case read, write, manage
    }

    private let topic: @Sendable (TopicAction, String) -> Bool
    private let group: @Sendable (String) -> Bool
    /// How long the authentication holds (what is left of a JWT's lifetime), or `nil` for as
    /// long as the connection: past it, the connection is closed at its next request unless
    /// it authenticated again.
    public var lifetime: Duration?

    /// Permissions decided by `topic` and `group`.
    public init(lifetime: Duration? = nil, topic: @escaping @Sendable (TopicAction, String) -> Bool,
                group: @escaping @Sendable (String) -> Bool) {
        self.lifetime = lifetime
        self.topic = topic
        self.group = group
    }

    /// Everything: authentication is off.
    public static let all = KafkaPermissions(topic: { _, _ in true }, group: { _ in true })
    /// Nothing: a connection that has not authenticated.
    public static let none = KafkaPermissions(topic: { _, _ in false }, group: { _ in false })

    /// Whether `action` on topic `name` is allowed.
    public func allows(_ action: TopicAction, topic name: String) -> Bool { topic(action, name) }

    /// Whether consumer group `name` may be used.
    public func allowsGroup(_ name: String) -> Bool { group(name) }
}

/// Checks the user and password of a SASL/PLAIN authentication: the permissions of the token
/// the password carries (a static token or a JWT, as over HTTP), or `nil` to refuse it.
public typealias KafkaPasswordCheck = @Sendable (_ user: String, _ password: String) async -> KafkaPermissions?
