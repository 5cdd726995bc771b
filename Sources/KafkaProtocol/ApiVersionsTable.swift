/// The APIs and versions a broker advertises in its ApiVersions response, and the rule for
/// requests outside them.
///
/// A client uses, per API, the highest version both sides support; a broker that advertises
/// only non-flexible maxima never receives a flexible request, except the client's first
/// ApiVersions request (librdkafka sends v3, kafka-python v4). That one is answered with
/// ``unsupportedVersionResponse``; any other request at a version not advertised is a protocol
/// violation (``KafkaRequestFrame/decode(_:advertised:)`` refuses it).
public struct ApiVersionsTable: Sendable, Equatable {
    /// One advertised API.
    public struct Entry: Sendable, Equatable {
        /// The API.
        public var apiKey: KafkaAPIKey
        /// The versions advertised.
        public var versions: ClosedRange<Int16>

        /// An entry for `apiKey` at `versions`.
        public init(_ apiKey: KafkaAPIKey, _ versions: ClosedRange<Int16>) {
            self.apiKey = apiKey
            self.versions = versions
        }
    }

    /// The advertised APIs, in key order.
    public let entries: [Entry]

    /// A table of `entries`.
    ///
    /// - Precondition: every entry's versions are covered by the generated codecs, no API is
    ///   listed twice, and ApiVersions itself is listed (clients need it to negotiate).
    public init(_ entries: [Entry]) {
        for entry in entries {
            guard let covered = entry.apiKey.codecVersions else {
                preconditionFailure("\(entry.apiKey) has no codec")
            }
            precondition(covered.lowerBound <= entry.versions.lowerBound && entry.versions.upperBound <= covered.upperBound,
                         "\(entry.apiKey) versions \(entry.versions) are not within the codec's \(covered)")
        }
        precondition(Set(entries.map(\.apiKey)).count == entries.count, "an API is listed twice")
        precondition(entries.contains { $0.apiKey == .apiVersions }, "ApiVersions must be advertised")
        self.entries = entries.sorted { $0.apiKey.rawValue < $1.apiKey.rawValue }
    }

    /// The APIs and versions issue 13 asks a broker to advertise (the required ones): Produce
    /// 3–8, Fetch 4–11, ListOffsets 1–5, Metadata 1–8, OffsetCommit 2–7, OffsetFetch 1–5,
    /// FindCoordinator 0–2, JoinGroup 0–5, Heartbeat 0–3, LeaveGroup 0–3, SyncGroup 0–3,
    /// ApiVersions 0–2, InitProducerId 0–1.
    ///
    /// Every group API includes v0, OffsetCommit starts at 2 and OffsetFetch at 1: librdkafka
    /// before 2.11 turns consumer groups off otherwise. OffsetForLeaderEpoch is deliberately
    /// absent: the broker is epoch-less.
    public static let standard = ApiVersionsTable([
        Entry(.produce, 3...8), Entry(.fetch, 4...11), Entry(.listOffsets, 1...5), Entry(.metadata, 1...8),
        Entry(.offsetCommit, 2...7), Entry(.offsetFetch, 1...5), Entry(.findCoordinator, 0...2),
        Entry(.joinGroup, 0...5), Entry(.heartbeat, 0...3), Entry(.leaveGroup, 0...3), Entry(.syncGroup, 0...3),
        Entry(.apiVersions, 0...2), Entry(.initProducerId, 0...1),
    ])

    /// Every API and version the generated codecs cover (``standard`` plus DescribeGroups 0–4,
    /// ListGroups 0–2 and CreateTopics 0–4).
    public static let allCovered = ApiVersionsTable(KafkaAPIKey.covered.compactMap { key in
        key.codecVersions.map { Entry(key, $0) }
    })

    /// The advertised versions of `apiKey`, or `nil` when it is not advertised.
    public func versions(of apiKey: KafkaAPIKey) -> ClosedRange<Int16>? {
        entries.first { $0.apiKey == apiKey }?.versions
    }

    /// Whether `version` of `apiKey` is advertised.
    public func isAdvertised(_ apiKey: KafkaAPIKey, version: Int16) -> Bool {
        versions(of: apiKey)?.contains(version) ?? false
    }

    /// The answer to an ApiVersions request at an advertised version: no error and every entry.
    public func response(throttleTimeMs: Int32 = 0) -> ApiVersionsResponse {
        ApiVersionsResponse(
            errorCode: KafkaErrorCode.none.rawValue,
            apiKeys: entries.map { .init(apiKey: $0.apiKey.rawValue, minVersion: $0.versions.lowerBound, maxVersion: $0.versions.upperBound) },
            throttleTimeMs: throttleTimeMs)
    }

    /// The answer to an ApiVersions request at a version not advertised (v3 and up, or any
    /// unknown one), to be encoded at v0 after a v0 response header: UNSUPPORTED_VERSION and
    /// only ApiVersions 0–2, as Kafka answers. librdkafka then retries with v0, kafka-python
    /// with v2. A v0-shaped body with no error would make librdkafka fail to parse it.
    public var unsupportedVersionResponse: ApiVersionsResponse {
        let versions = self.versions(of: .apiVersions) ?? 0...0
        return ApiVersionsResponse(
            errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
            apiKeys: [.init(apiKey: KafkaAPIKey.apiVersions.rawValue, minVersion: versions.lowerBound, maxVersion: versions.upperBound)])
    }
}
