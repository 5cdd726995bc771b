import KafkaProtocol
import Testing

/// Malformed and hostile frames give a clear error value: never a trap, never an allocation
/// sized by what the client claims.
@Suite struct HostileFrameTests {
    /// A request frame (no size prefix): header v1 for `key` at `version`, then `body`.
    static func frame(_ key: Int16, _ version: Int16, clientId: String? = "test", _ body: [UInt8]) -> [UInt8] {
        var writer = KafkaWriter()
        RequestHeader(apiKey: KafkaAPIKey(rawValue: key), apiVersion: version, correlationId: 7, clientId: clientId).encode(into: &writer)
        writer.writeRaw(body)
        return writer.bytes
    }

    static func int16(_ v: Int16) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
    static func int32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    static func decodeError(_ frame: [UInt8]) throws -> KafkaProtocolError {
        try #require(throws: KafkaProtocolError.self) { _ = try KafkaRequestFrame.decode(frame, advertised: .allCovered) }
    }

    // MARK: Size prefixes

    @Test(arguments: [Int32.min, -1, 0, 9, Int32.max, Int32(KafkaFraming.defaultMaxFrameBytes) + 1])
    func impossibleFrameSizesAreRefusedBeforeReading(_ size: Int32) throws {
        let error = try #require(throws: KafkaProtocolError.self) { _ = try KafkaFraming.frameSize(at: Self.int32(size)) }
        #expect(error.code == .invalidFrameSize)
        #expect(error.message.contains("\(size)"))
    }

    @Test func frameSizesInRangeAreAccepted() throws {
        #expect(try KafkaFraming.frameSize(at: Self.int32(10)) == 10)
        #expect(try KafkaFraming.frameSize(at: Self.int32(1 << 20) + [1, 2, 3]) == 1 << 20)
        #expect(try KafkaFraming.frameSize(at: [0, 0, 1]) == nil)
        let error = try #require(throws: KafkaProtocolError.self) { _ = try KafkaFraming.frameSize(at: Self.int32(4096), maxFrameBytes: 4095) }
        #expect(error.code == .invalidFrameSize)
    }

    // MARK: Counts and lengths

    /// Produce v7 with TopicData claiming 2^31-1 topics in a 20-byte frame.
    @Test func aHugeArrayCountIsRefusedWithoutAllocating() throws {
        let body = Self.int16(-1) + Self.int16(1) + Self.int32(1000) + Self.int32(Int32.max) + [0, 1, 0x74]
        let error = try Self.decodeError(Self.frame(0, 7, body))
        #expect(error.code == .invalidCount)
        #expect(error.message.hasPrefix("ProduceRequest v7: TopicData has 2147483647 elements"), "\(error.message)")
    }

    @Test(arguments: [Int32.min, -2, -1000])
    func negativeArrayCountsAreRefused(_ count: Int32) throws {
        let body = Self.int16(-1) + Self.int16(1) + Self.int32(1000) + Self.int32(count)
        let error = try Self.decodeError(Self.frame(0, 7, body))
        #expect(error.code == .invalidCount)
        #expect(error.message.contains("negative count \(count)"))
    }

    @Test func aNullArrayWhereNoneIsAllowedIsRefused() throws {
        let body = Self.int16(-1) + Self.int16(1) + Self.int32(1000) + Self.int32(-1)
        let error = try Self.decodeError(Self.frame(0, 7, body))
        #expect(error.code == .invalidCount)
        #expect(error.message.contains("TopicData is a null array"))
    }

    @Test(arguments: [Int16.min, -2, 5, Int16.max])
    func stringLengthsOutOfRangeAreRefused(_ length: Int16) throws {
        // Metadata v4: one topic whose name claims `length` bytes, with 3 bytes after it.
        let body = Self.int32(1) + Self.int16(length) + [0x61, 0x62, 0x01]
        let error = try Self.decodeError(Self.frame(3, 4, body))
        #expect(error.code == .invalidLength)
        #expect(error.message.hasPrefix("MetadataRequest v4: Topics.Name"), "\(error.message)")
    }

    @Test(arguments: [Int32.min, -2, 100, Int32.max])
    func recordsLengthsOutOfRangeAreRefused(_ length: Int32) throws {
        // Produce v7: topic "t", partition 0, records claiming `length` bytes with 8 after it.
        let body = Self.int16(-1) + Self.int16(1) + Self.int32(1000) + Self.int32(1) + Self.int16(1) + [0x74]
            + Self.int32(1) + Self.int32(0) + Self.int32(length) + [UInt8](repeating: 0, count: 8)
        let error = try Self.decodeError(Self.frame(0, 7, body))
        #expect(error.code == .invalidLength)
        #expect(error.message.contains("TopicData.PartitionData.Records"))
    }

    @Test func aNullStringWhereNoneIsAllowedIsRefused() throws {
        // FindCoordinator v0's key is a non-nullable string.
        let error = try Self.decodeError(Self.frame(10, 0, Self.int16(-1)))
        #expect(error.code == .invalidLength)
        #expect(error.message.contains("Key is null"))
    }

    // MARK: Values

    @Test func aBooleanOtherThanZeroOrOneIsRefused() throws {
        // Metadata v4: null topics, allow_auto_topic_creation = 2.
        let error = try Self.decodeError(Self.frame(3, 4, Self.int32(-1) + [2]))
        #expect(error.code == .invalidValue)
        #expect(error.message.contains("AllowAutoTopicCreation"))
    }

    @Test func invalidUTF8IsRefused() throws {
        var frame = Self.frame(18, 0, clientId: "ab", [])
        frame[frame.count - 1] = 0xff
        let error = try Self.decodeError(frame)
        #expect(error.code == .invalidValue)
        #expect(error.message.contains("ClientId is not valid UTF-8"))
    }

    @Test func bytesAfterTheBodyAreRefused() throws {
        let error = try Self.decodeError(Self.frame(18, 1, [0]))
        #expect(error.code == .trailingBytes)
    }

    // MARK: Truncation

    /// Every prefix of every request a real client sent is an error.
    @Test func everyPrefixOfEveryGoldenRequestIsAnError() throws {
        var checked = 0
        for golden in GoldenFrame.requests where !(golden.api == "ApiVersions" && golden.version > 2) {
            let frame = golden.frame
            for length in 0..<frame.count {
                #expect(throws: KafkaProtocolError.self, "\(golden.testDescription) cut at \(length)") {
                    _ = try KafkaRequestFrame.decode(Array(frame[0..<length]), advertised: .allCovered)
                }
                checked += 1
            }
        }
        #expect(checked > 5000)
    }

    // MARK: Versions

    @Test(arguments: [(Int16(0), Int16(2)), (0, 9), (1, 3), (1, 12), (3, 0), (3, 9), (22, 2), (23, 2), (99, 0), (-1, 0)])
    func unadvertisedVersionsAreRefused(_ key: Int16, _ version: Int16) throws {
        let error = try #require(throws: KafkaProtocolError.self) {
            _ = try KafkaRequestFrame.decode(Self.frame(key, version, []), advertised: .standard)
        }
        #expect(error.code == .unsupportedVersion)
    }

    /// The standard table leaves out the optional APIs the codecs cover: they are refused too.
    @Test func coveredButUnadvertisedApisAreRefused() throws {
        let error = try #require(throws: KafkaProtocolError.self) {
            _ = try KafkaRequestFrame.decode(Self.frame(16, 0, []), advertised: .standard)
        }
        #expect(error.code == .unsupportedVersion)
        #expect(error.message == "ListGroups (key 16) is not supported.")
        #expect(try KafkaRequestFrame.decode(Self.frame(16, 0, []), advertised: .allCovered).request != nil)
    }
}
