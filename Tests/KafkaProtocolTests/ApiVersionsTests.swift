import KafkaProtocol
import Testing

/// What the broker advertises, and the ApiVersions v3+/unknown-version rule.
@Suite struct ApiVersionsTests {
    @Test func theStandardTableIsIssue13s() {
        let table = ApiVersionsTable.standard
        let expected: [(KafkaAPIKey, ClosedRange<Int16>)] = [
            (.produce, 3...8), (.fetch, 4...11), (.listOffsets, 1...5), (.metadata, 1...8), (.offsetCommit, 2...7),
            (.offsetFetch, 1...5), (.findCoordinator, 0...2), (.joinGroup, 0...5), (.heartbeat, 0...3),
            (.leaveGroup, 0...3), (.syncGroup, 0...3), (.apiVersions, 0...2), (.initProducerId, 0...1),
        ]
        #expect(table.entries.map(\.apiKey) == expected.map(\.0))
        for (key, versions) in expected {
            #expect(table.versions(of: key) == versions, "\(key)")
        }
    }

    /// librdkafka < 2.11 turns consumer groups off unless every group API includes v0,
    /// OffsetCommit starts at 2 or lower and OffsetFetch at 1 or lower; OffsetForLeaderEpoch
    /// (23) must not be advertised (the broker is epoch-less).
    @Test func librdkafkaFeatureGatesHold() {
        let table = ApiVersionsTable.standard
        for key in [KafkaAPIKey.findCoordinator, .joinGroup, .syncGroup, .heartbeat, .leaveGroup] {
            #expect(table.versions(of: key)?.lowerBound == 0, "\(key)")
        }
        #expect(table.versions(of: .offsetCommit)!.lowerBound <= 2)
        #expect(table.versions(of: .offsetFetch)!.lowerBound <= 1)
        #expect(table.versions(of: KafkaAPIKey(rawValue: 23)) == nil)
        // MsgVer2 needs Produce 3 and Fetch 4; ZSTD Produce 7 and Fetch 10.
        #expect(table.isAdvertised(.produce, version: 3) && table.isAdvertised(.fetch, version: 4))
        #expect(table.isAdvertised(.produce, version: 7) && table.isAdvertised(.fetch, version: 10))
    }

    /// Every advertised maximum is the last non-flexible version.
    @Test func noFlexibleVersionIsAdvertised() {
        for entry in ApiVersionsTable.allCovered.entries {
            guard let flexible = entry.apiKey.firstFlexibleVersion else {
                // SaslHandshake never became flexible: its versions are 0 and 1.
                #expect(entry.apiKey == .saslHandshake && entry.versions == 0...1)
                continue
            }
            #expect(entry.versions.upperBound == flexible - 1, "\(entry.apiKey)")
        }
    }

    @Test(arguments: [Int16(3), 4, 5, 127, -1, Int16.max])
    func apiVersionsAboveTheTableGetsTheV0Fallback(_ version: Int16) throws {
        var request = KafkaWriter()
        RequestHeader(apiKey: .apiVersions, apiVersion: version, correlationId: 0x0102_0304, clientId: "rdkafka").encode(into: &request)
        // A flexible body (compact strings and a tag section) that is never read.
        request.writeRaw([0x08] + Array("librdkafka".utf8) + [0x06] + Array("2.0.2".utf8) + [0])
        let decoded = try KafkaRequestFrame.decode(request.bytes, advertised: .standard)
        guard case .unsupportedApiVersions(let header) = decoded else {
            Issue.record("v\(version) was decoded as a request")
            return
        }
        let frame = KafkaResponseFrame.unsupportedApiVersions(correlationId: header.correlationId, advertised: .standard)
        // size 16 | correlation id | error 35 | one entry: key 18, 0…2 | no throttle field
        #expect(frame == [0, 0, 0, 16, 1, 2, 3, 4, 0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2])
    }

    @Test func theFallbackIsNeverAnEmptyV0BodyWithoutError() throws {
        let body = ApiVersionsTable.standard.unsupportedVersionResponse
        #expect(body.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        #expect(body.apiKeys == [.init(apiKey: 18, minVersion: 0, maxVersion: 2)])
    }

    @Test(arguments: [Int16(0), 1, 2])
    func advertisedVersionsAnswerWithTheWholeTable(_ version: Int16) throws {
        let frame = KafkaResponseFrame.encode(correlationId: 9, body: ApiVersionsTable.standard.response(), version: version)
        // 4 size + 4 correlation + 2 error + 4 count + 13 × 6 entries (+ 4 throttle from v1)
        #expect(frame.count == 4 + 4 + 2 + 4 + 13 * 6 + (version >= 1 ? 4 : 0))
        let (header, body) = try KafkaResponseFrame.decode(Array(frame.dropFirst(4)), apiKey: .apiVersions, version: version)
        #expect(header.correlationId == 9)
        guard case .apiVersions(let response) = body else { Issue.record("not ApiVersions"); return }
        #expect(response.errorCode == 0 && response.apiKeys.count == 13)
    }
}
