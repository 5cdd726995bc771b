import EventLog
import Foundation
import TestSupport
import Testing

/// What one run of the log-dump binary printed, read as JSON.
extension ProcessOutput {
    /// Standard output as one JSON object.
    func document() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(stdout.prefix(300))")
    }

    /// Standard output as JSON Lines.
    func jsonLines() throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try #require(object as? [String: Any], "not a JSON object: \(line.prefix(300))")
        }
    }
}

/// Runs the built log-dump (``BuiltProduct/logDump``) with `arguments` to its end.
func runDump(_ arguments: [String]) async throws -> ProcessOutput {
    try await ProcessOutput.run(try BuiltProduct.logDump.requireBuilt(), arguments)
}

/// A data directory with one topic written through the library and closed cleanly.
struct SampleLog {
    var directory: String
    var topic = "orders"
    var records: [Record]
    var partitionDirectory: String { directory + "/topics/\(topic)/0" }

    /// Writes `batches` batches of 1 to 5 records to partition 0, with small segments so there are several.
    static func write(in directory: String, codec: CompressionCodec = .none, batches: Int = 60,
                      segmentBytes: Int64 = 4096, keepOpen: Bool = false) async throws -> (SampleLog, LogStore?) {
        // A store kept open does nothing in the background (no periodic checkpoint, no cleaner):
        // tests compare the directory's files before and after a dump while it is open, and
        // only the dump may be what changed them (once, under ThreadSanitizer's slowdown, the
        // list changed while the store was open; not reproduced since).
        let store = try await openStore(directory) { options in
            if keepOpen {
                options.flushInterval = .seconds(3_600)
                options.cleanerInterval = nil
            }
        }
        var configuration = TopicConfiguration(partitions: 1, compression: codec, durability: .fsync, segmentBytes: segmentBytes)
        configuration.indexIntervalBytes = 256
        // The records carry 2023 timestamps: without this every batch would roll a segment by age.
        configuration.maxSegmentAge = .milliseconds(1 << 50)
        let topic = try await store.createTopic(named: "orders", configuration: configuration)
        var all: [Record] = []
        for b in 0..<batches {
            let records = (0..<(b % 5 + 1)).map { i in
                Record(key: "k\(b)", value: bytes("batch \(b) record \(i) " + String(repeating: "abcd", count: 20 + b % 10)),
                       headers: ["type": "t\(i)"], timestamp: 1_700_000_000_000 + Int64(all.count + i))
            }
            try await topic.partitions[0].append(records)
            all += records
        }
        let sample = SampleLog(directory: directory, records: all)
        if keepOpen { return (sample, store) }
        try await store.close()
        return (sample, nil)
    }

    /// The partition's `.log` files, oldest first.
    func segmentLogs() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: partitionDirectory)
            .filter { $0.hasSuffix(".log") }.sorted().map { partitionDirectory + "/" + $0 }
    }

    /// Each batch of a `.log` file: its byte position, size and offsets.
    func batches(of log: String) throws -> [(position: Int64, size: Int, baseOffset: Int64, lastOffset: Int64)] {
        var scanner = try BatchScanner.open(path: log)
        var out: [(Int64, Int, Int64, Int64)] = []
        while let (position, header) = try scanner.nextHeader() {
            out.append((position, header.totalSize, header.baseOffset, header.lastOffset))
        }
        return out
    }
}

/// Rewrites bytes of a file in place (damage for the tests).
func patch(_ path: String, at offset: Int64, with bytes: [UInt8]) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    handle.write(Data(bytes))
}

/// Cuts a file to `size` bytes.
func truncateFile(_ path: String, to size: Int64) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.truncate(atOffset: UInt64(size))
}

func readBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}
