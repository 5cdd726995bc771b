@testable import KafkaProtocol
import Testing

/// Every generated message, at every covered version: random values encode, decode to the
/// same value, and every truncation of the bytes is an error, never a trap.
@Suite struct RoundTripTests {
    @Test func everyCoveredApiHasBothMessages() {
        let names = Set(generatedMessages.map(\.name))
        for key in KafkaAPIKey.covered {
            #expect(names.contains(key.name! + "Request") && names.contains(key.name! + "Response"))
        }
        #expect(generatedMessages.count == 36)   // 18 APIs
    }

    @Test(arguments: generatedMessages)
    func randomValuesRoundTripAtEveryVersion(_ message: MessageCase) throws {
        for version in message.versions {
            for seed in UInt64(0)..<40 {
                let sample = message.sample(version, seed &* 7919 &+ UInt64(version))
                #expect(try sample.decodesEqual(sample.bytes), "\(message.name) v\(version) seed \(seed)")
            }
        }
    }

    @Test(arguments: generatedMessages)
    func everyTruncationIsAnError(_ message: MessageCase) throws {
        for version in message.versions {
            for seed in UInt64(0)..<4 {
                let sample = message.sample(version, seed)
                for length in 0..<sample.bytes.count {
                    let prefix = Array(sample.bytes[0..<length])
                    #expect(throws: KafkaProtocolError.self, "\(message.name) v\(version) cut at \(length)") {
                        _ = try sample.decodesEqual(prefix)
                    }
                }
            }
        }
    }

    @Test(arguments: generatedMessages)
    func decodingOutsideTheCoveredVersionsIsRefused(_ message: MessageCase) throws {
        for version in [message.versions.lowerBound - 1, message.versions.upperBound + 1] where version >= 0 {
            var reader = KafkaReader([UInt8](repeating: 0, count: 64))
            let error = try #require(throws: KafkaProtocolError.self) {
                _ = try KafkaRequest.decode(apiKey: message.apiKey, version: version, from: &reader)
            }
            #expect(error.code == .unsupportedVersion)
        }
    }

    /// A field absent at a version is not on the wire: Produce's response has log_start_offset
    /// from v5 and record errors from v8; ListOffsets' request has isolation_level from v2.
    @Test func absentFieldsAreNotWritten() throws {
        let response = ProduceResponse(responses: [.init(name: "t", partitionResponses: [.init(index: 0, baseOffset: 7, logStartOffset: 99)])])
        func size(_ version: Int16) -> Int {
            var writer = KafkaWriter()
            response.encode(into: &writer, version: version)
            return writer.count
        }
        #expect(size(5) - size(4) == 8)        // LogStartOffset
        #expect(size(8) - size(7) == 4 + 2)    // RecordErrors count, ErrorMessage null
        var reader = KafkaReader({ var w = KafkaWriter(); response.encode(into: &w, version: 4); return w.bytes }())
        #expect(try ProduceResponse.decode(from: &reader, version: 4).responses[0].partitionResponses[0].logStartOffset == -1)

        let request = ListOffsetsRequest(replicaId: -1, isolationLevel: 1, topics: [])
        var v1 = KafkaWriter(), v2 = KafkaWriter()
        request.encode(into: &v1, version: 1)
        request.encode(into: &v2, version: 2)
        #expect(v1.bytes == [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])
        #expect(v2.bytes == [0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0])
    }

    /// OffsetFetch's topics are nullable only from v2: at v1 a nil list goes out as empty.
    @Test func nilIsWrittenAsEmptyWhereTheVersionHasNoNull() throws {
        let request = OffsetFetchRequest(groupId: "g", topics: nil)
        var v1 = KafkaWriter(), v2 = KafkaWriter()
        request.encode(into: &v1, version: 1)
        request.encode(into: &v2, version: 2)
        #expect(v1.bytes.suffix(4) == [0, 0, 0, 0])
        #expect(v2.bytes.suffix(4) == [0xff, 0xff, 0xff, 0xff])
        // At v1, a null array from a client is an error.
        var reader = KafkaReader(v2.bytes)
        let error = try #require(throws: KafkaProtocolError.self) { _ = try OffsetFetchRequest.decode(from: &reader, version: 1) }
        #expect(error.code == .invalidCount)
    }
}
