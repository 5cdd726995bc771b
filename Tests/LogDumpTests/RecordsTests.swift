import EventLog
import Foundation
import TestSupport
import Testing

/// `--records`: every record of every codec, decompressed, as text and as JSON Lines.
@Suite struct RecordsTests {
    @Test(arguments: [CompressionCodec.none, .lz4, .zstd])
    func everyRecordIsPrinted(codec: CompressionCodec) async throws {
        try await withTemporaryDirectory { dir in
            let store = try await openStore(dir)
            let config = TopicConfiguration(partitions: 1, compression: codec, durability: .fsync, segmentBytes: 2048)
            let p = try await store.createTopic(named: "mixed", configuration: config).partitions[0]
            var expected: [Record] = []
            for b in 0..<20 {
                let records = [
                    Record(key: "key-\(b)", value: bytes("héllo \(b)\nline two"), headers: ["trace": "t\(b)"], timestamp: 1_000 + Int64(b)),
                    Record(key: nil, value: [0xff, 0xfe, 0x00, UInt8(b)], headers: [:], timestamp: 2_000 + Int64(b)),
                    Record(key: "gone-\(b)", value: nil, headers: [:], timestamp: 3_000 + Int64(b)),
                ]
                try await p.append(records)
                expected += records
            }
            try await store.close()

            let run = try await runDump([dir, "--records", "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let lines = try run.jsonLines()
            let records = lines.filter { $0["type"] as? String == "record" }
            #expect(records.count == expected.count)
            #expect(lines.last?["type"] as? String == "summary")
            #expect(lines.last?["records_printed"] as? Int == expected.count)
            for (i, (line, record)) in zip(records, expected).enumerated() {
                #expect(line["offset"] as? Int == i)
                #expect(line["timestamp"] as? Int64 == record.timestamp)
                #expect(line["topic"] as? String == "mixed")
                #expect(line["partition"] as? Int == 0)
                #expect(decode(line, "key") == record.key)
                #expect(decode(line, "value") == record.value)
                let headers = try #require(line["headers"] as? [String: String])
                #expect(headers.mapValues { RecordBytes($0) } == Dictionary(uniqueKeysWithValues: record.headers.map { ($0.name, $0.value) }))
                #expect(line["headers_b64"] == nil)
                // The HTTP API's names: a UTF-8 value as `value_text`, any other as `value_b64`,
                // a tombstone as `"value": null`; never both, never an `…Encoding` member.
                let members = Set(line.keys).intersection(["key", "key_b64", "value", "value_text", "value_b64"])
                switch i % 3 {
                case 0: #expect(members == ["key", "value_text"])
                case 1: #expect(members == ["key", "value_b64"] && line["key"] is NSNull)
                default: #expect(members == ["key", "value"] && line["value"] is NSNull)
                }
                #expect(!line.keys.contains { $0.hasSuffix("Encoding") })
            }

            let text = try await runDump([dir, "--records"])
            #expect(text.status == 0)
            #expect(text.stdout.contains(#"key "key-7""#))
            #expect(text.stdout.contains(#"value "héllo 7\nline two""#))
            #expect(text.stdout.contains("headers [trace=\"t7\"]"))
            #expect(text.stdout.contains("value base64:" + Data([0xff, 0xfe, 0x00, 7]).base64EncodedString()))
            #expect(text.stdout.contains("value null"))
            #expect(text.stdout.contains("\(expected.count) records printed"))
        }
    }

    @Test func aSliceIsReadThroughTheIndex() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir, batches: 120)
            let run = try await runDump([sample.partitionDirectory, "--from-offset", "100", "--count", "7", "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let records = try run.jsonLines().filter { $0["type"] as? String == "record" }
            #expect(records.map { $0["offset"] as? Int } == Array(100..<107))
            #expect(records.map { decode($0, "value") } == sample.records[100..<107].map(\.value))

            let tail = try await runDump([dir, "--from-offset", String(sample.records.count - 2)])
            #expect(tail.stdout.contains("2 records printed"))
        }
    }

    /// The bytes of a record line's key or value, by the HTTP API's names: `<name>_b64`
    /// (base64), `<name>_text` (a value's text), `<name>` (a key's text), or none (`null`).
    private func decode(_ object: [String: Any], _ name: String) -> RecordBytes? {
        if let base64 = object[name + "_b64"] as? String { return Data(base64Encoded: base64).map { RecordBytes(Array($0)) } }
        return ((object[name + "_text"] ?? object[name]) as? String).map { RecordBytes($0) }
    }
}
