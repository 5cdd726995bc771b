/// What a request may do: everything (authentication off, or a static token), or what a
/// JWT's `logd` claim grants.
///
/// The claim names topic and group patterns per permission:
///
/// ```json
/// {"sub": "billing", "exp": 1767225600,
///  "logd": {"read": ["orders", "audit.*"], "write": ["orders"], "manage": [], "groups": ["billing-*"]}}
/// ```
///
/// `read` covers topic metadata, fetch, event streams and WebSocket subscriptions; `write`
/// covers produce; `manage` covers creating, changing and deleting topics, compaction and
/// retention; `groups` covers consumer-group routes and `group=` on streams (which also need
/// `read` on the topic). A missing permission grants nothing.
public struct AccessScope: Sendable, Hashable {
    /// Names a permission applies to: exact names, prefixes written `prefix*`, or `*` for all.
    public struct Patterns: Sendable, Hashable {
        private var exact: Set<String> = []
        private var prefixes: [String] = []
        private var all = false

        /// Parses `patterns`: `*` matches every name, `p*` every name starting with `p`.
        public init(_ patterns: [String]) {
            for p in patterns {
                if p == "*" {
                    all = true
                } else if p.hasSuffix("*") {
                    prefixes.append(String(p.dropLast()))
                } else {
                    exact.insert(p)
                }
            }
        }

        /// Whether `name` is covered.
        public func matches(_ name: String) -> Bool {
            all || exact.contains(name) || prefixes.contains { name.hasPrefix($0) }
        }

        /// Every name.
        public static let everything = Patterns(["*"])
    }

    /// Topics whose records and metadata may be read.
    public var read: Patterns
    /// Topics that may be produced to.
    public var write: Patterns
    /// Topics that may be created, changed, deleted, compacted or cleaned by retention.
    public var manage: Patterns
    /// Consumer groups that may be used.
    public var groups: Patterns

    /// Makes a scope; omitted permissions grant nothing.
    public init(read: Patterns = .init([]), write: Patterns = .init([]), manage: Patterns = .init([]), groups: Patterns = .init([])) {
        self.read = read
        self.write = write
        self.manage = manage
        self.groups = groups
    }

    /// Everything: authentication off, or a static token.
    public static let unrestricted = AccessScope(read: .everything, write: .everything, manage: .everything, groups: .everything)

    /// What is done to a topic.
    public enum TopicAction: String, Sendable {
        /// Metadata, fetch, event streams, WebSocket subscriptions.
        case read
        /// Produce.
        case write
        /// Create, change, delete, compact, apply retention.
        case manage
    }

    /// Whether `action` on topic `name` is allowed.
    public func allows(_ action: TopicAction, topic name: String) -> Bool {
        switch action {
        case .read: read.matches(name)
        case .write: write.matches(name)
        case .manage: manage.matches(name)
        }
    }

    /// Throws `403 forbidden` unless `action` on topic `name` is allowed.
    func require(_ action: TopicAction, topic name: String) throws {
        guard allows(action, topic: name) else {
            throw APIError(.forbidden, "This token may not \(action.rawValue) topic \(name).")
        }
    }

    /// Throws `403 forbidden` unless consumer group `name` may be used.
    func requireGroup(_ name: String) throws {
        guard groups.matches(name) else {
            throw APIError(.forbidden, "This token may not use consumer group \(name).")
        }
    }
}
