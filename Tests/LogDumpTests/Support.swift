import EventLog
import Foundation
import Logging
import Testing

/// Runs `body` with a fresh temporary directory, removed afterwards whatever happens.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "log-dump-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

let testLogger: Logger = {
    var l = Logger(label: "log-dump.test")
    l.logLevel = .critical
    return l
}()

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// What one run of the log-dump binary printed, and its exit status.
struct DumpRun {
    var status: Int32
    var stdout: String
    var stderr: String

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

/// The built `log-dump`: next to the test bundle (…/debug/EventLogPackageTests.xctest), or `LOG_DUMP_BIN`.
var logDumpBinary: String {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidates = [here.appendingPathComponent("log-dump").path]
    if let env = ProcessInfo.processInfo.environment["LOG_DUMP_BIN"] { candidates.insert(env, at: 0) }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
}

/// Runs log-dump with `arguments`, output into files (no pipe can fill up and block it).
func runDump(_ arguments: [String]) throws -> DumpRun {
    let binary = logDumpBinary
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build it first: swift build --product log-dump (looked at \(binary))")
    let scratch = NSTemporaryDirectory() + "log-dump-run-" + UUID().uuidString
    let outPath = scratch + ".out", errPath = scratch + ".err"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    try process.run()
    process.waitUntilExit()
    return DumpRun(
        status: process.terminationStatus,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
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
        let store = try await LogStore.open(at: directory, logger: testLogger)
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
