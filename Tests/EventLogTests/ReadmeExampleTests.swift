import Foundation
import Logging
import TestSupport
import Testing
@testable import EventLog

/// The README's embedding example, compiled and run here; a test keeps the two identical.
func readmeExample(directory: String) async throws {
    // README-BEGIN
    let store = try await LogStore.open(at: directory, logger: Logger(label: "app"))
    let orders = try await store.topic(named: "orders", creatingWith: TopicConfiguration(partitions: 3, compression: .zstd))
    let placed = try await orders.append([                    // each record to its key's partition, as Kafka would
        Record(key: "order-17", value: "placed", headers: ["type": "order.placed"]),
        Record(key: "order-18", value: "placed"),
    ])                                                        // durable: fdatasync'd, shared with concurrent appends
    print("order-17 stored at \(placed[0])")                  // partition/offset
    var position = try await orders.position(for: .earliest)
    for try await event in orders.records(from: position) {  // every partition: replays, then tails live
        if case .record(let record) = event {                 // else a .notice: records lost to retention or damage
            print(record.partition, record.offset, record.value ?? "(tombstone)")
        }
        position.advance(past: event)                         // position.description ("0,-1,0") resumes: TopicPosition(text)
        if placed.allSatisfy({ position[$0.partition] > $0.offset }) { break }
    }
    try await store.close()
    // README-END
}

@Suite struct ReadmeExampleTests {
    @Test func theReadmeExampleRunsAndMatchesTheReadme() async throws {
        try await withTemporaryDirectory { dir in
            try await readmeExample(directory: dir)
            let store = try await openStore(dir)
            let topic = try #require(store.topic(named: "orders"))
            #expect(topic.configuration.partitions == 3 && topic.configuration.compression == .zstd)
            var values: [String] = []
            for p in topic.partitions { values += try await readAll(p).map { text($0.value)! } }
            #expect(values == ["placed", "placed"])
            try await store.close()
        }
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let start = source.range(of: "// README-BEGIN\n")!.upperBound
        let end = source.range(of: "    // README-END")!.lowerBound
        let example = source[start..<end].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }.joined(separator: "\n")
        let readme = try String(contentsOfFile: packageDirectory + "/README.md", encoding: .utf8)
        #expect(readme.contains(example), "README.md's example differs from ReadmeExampleTests.swift")
    }
}
