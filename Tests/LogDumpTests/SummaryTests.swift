import EventLog
import Foundation
import TestSupport
import Testing

/// The default summary and `--json` document match what was appended.
@Suite struct SummaryTests {
    @Test(arguments: [CompressionCodec.none, .lz4, .zstd])
    func summaryMatchesWhatWasAppended(codec: CompressionCodec) async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir, codec: codec)
            let logs = try sample.segmentLogs()
            #expect(logs.count > 2)

            let run = try await runDump([dir, "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let doc = try run.document()
            #expect(doc["kind"] as? String == "data-directory")
            #expect(doc["clean_shutdown"] as? Bool == true)
            let totals = try #require(doc["totals"] as? [String: Any])
            #expect(totals["records"] as? Int == sample.records.count)
            #expect(totals["first_offset"] as? Int == 0)
            #expect(totals["last_offset"] as? Int == sample.records.count - 1)
            #expect(totals["segments"] as? Int == logs.count)
            #expect(totals["batches"] as? Int == 60)
            #expect(totals["first_timestamp"] as? Int == 1_700_000_000_000)
            #expect(totals["max_timestamp"] as? Int == 1_700_000_000_000 + sample.records.count - 1)
            #expect(totals["first_time"] as? String == "2023-11-14T22:13:20.000Z")

            let topics = try #require(doc["topics"] as? [[String: Any]])
            #expect(topics.map { $0["name"] as? String } == ["orders"])
            let partitions = try #require(topics[0]["partitions"] as? [[String: Any]])
            let segments = try #require(partitions.first?["segments"] as? [[String: Any]])
            #expect(segments.map { $0["file"] as? String } == logs)
            var next = 0
            for segment in segments {
                #expect(segment["base_offset"] as? Int == next)
                #expect(segment["first_offset"] as? Int == next)
                let last = try #require(segment["last_offset"] as? Int)
                #expect(segment["records"] as? Int == last - next + 1)
                #expect(segment["codec"] as? String == codec.description)
                let size = try FileManager.default.attributesOfItem(atPath: segment["file"] as! String)[.size] as? Int
                #expect(segment["bytes"] as? Int == size)
                let ratio = try #require(segment["compression_ratio"] as? Double)
                if codec == .none { #expect(ratio == 1.0) } else { #expect(ratio > 1.0) }
                let index = try #require(segment["index"] as? [String: Any])
                #expect(index["present"] as? Bool == true)
                next = last + 1
            }
            #expect(next == sample.records.count)

            let text = try await runDump([dir])
            #expect(text.status == 0)
            #expect(text.stdout.contains("topic orders"))
            #expect(text.stdout.contains("records \(sample.records.count)") || text.stdout.contains("\(sample.records.count) records"))
            #expect(text.stdout.contains("codec \(codec)"))
        }
    }

    @Test func everyKindOfPathIsRead() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir)
            let log = try #require(try sample.segmentLogs().first)
            let index = String(log.dropLast(4)) + ".index"
            let timeIndex = String(log.dropLast(4)) + ".timeindex"
            for (path, kind) in [(dir + "/topics/orders", "topic"), (sample.partitionDirectory, "partition"),
                                 (log, "log"), (index, "index"), (timeIndex, "timeindex")] {
                let run = try await runDump([path, "--json"])
                #expect(run.status == 0, "\(path): \(run.stderr)")
                #expect(try run.document()["kind"] as? String == kind)
            }
            let indexDoc = try await runDump([index, "--json"]).document()
            let entries = try #require((indexDoc["indexes"] as? [[String: Any]])?.first)
            let size = try readBytes(index).count
            #expect(entries["entries"] as? Int == size / 8)
            #expect(size > 0)
        }
    }

    @Test func aMissingPathExitsTwoWithOneSentence() async throws {
        let run = try await runDump(["/nonexistent/log-dump-test"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(run.stderr.contains("/nonexistent/log-dump-test"))
        #expect(run.stderr.contains("No such file or directory"))
    }

    @Test func aUsageErrorExitsTwo() async throws {
        #expect(try await runDump([]).status == 2)
        #expect(try await runDump(["/tmp", "--no-such-flag"]).status == 2)
        #expect(try await runDump(["/tmp", "--verify", "--count", "3"]).status == 2)
    }

    @Test func aDirectoryLogdHasOpenIsReadWithoutTouchingIt() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, openStore) = try await SampleLog.write(in: dir, keepOpen: true)
            let store = try #require(openStore)
            let before = try FileManager.default.subpathsOfDirectory(atPath: dir).sorted()
            let run = try await runDump([dir, "--verify", "--json"])
            #expect(run.status == 0, "\(run.stdout)")
            let doc = try run.document()
            #expect(doc["clean_shutdown"] as? Bool == false)
            #expect((doc["totals"] as? [String: Any])?["records"] as? Int == sample.records.count)
            #expect(try FileManager.default.subpathsOfDirectory(atPath: dir).sorted() == before)
            // The lock was not taken: the store still appends and closes.
            let p = try #require(store.topic(named: "orders")).partitions[0]
            try await p.append([Record(value: bytes("after"))])
            try await store.close()
        }
    }
}
