import Dispatch
import EventLog
import Foundation
import Logging

/// The fuzz targets: each takes arbitrary bytes and must return. Throwing is the expected
/// answer to bad input; a trap, a hang or a leak is a finding (see Tools/fuzz/README.md).
///
/// They live in a library so that the Swift test suite replays every input the fuzzer ever
/// found (`Tools/fuzz/regressions/<target>/`) through exactly the same code.
public enum FuzzTargets {
    public typealias Target = @Sendable ([UInt8]) -> Void

    /// Every target by name.
    public static let all: [String: Target] = [
        "record-batch": recordBatch,
        "record-batch-fields": recordBatchFields,
        "indexes": indexes,
        "recovery-tail": recoveryTail,
        "topic-config": topicConfig,
        "recovery-checkpoint": recoveryCheckpoint,
        "kafka-request": kafkaRequest,
        "produce-body": produceBody,
        "websocket-message": webSocketMessage,
        "query-parameters": queryParameters,
        "sse-cursor": sseCursor,
    ]

    /// The bytes as a whole stored batch: header, then every record decoded (CRC not required,
    /// so the fuzzer reaches the record decoder; the read path checks the CRC first).
    static func recordBatch(_ data: [UInt8]) {
        data.withUnsafeBytes { raw in
            _ = RecordBatchHeader.checksumMatches(raw)
            guard let header = try? RecordBatchHeader(parsing: raw) else { return }
            try? header.forEachRecord(in: raw) { view in
                _ = view.stored()
                _ = try view.headers()
            }
        }
        // The read path's decoder: records as views into the batch, headers walked in place.
        guard let header = data.withUnsafeBytes({ try? RecordBatchHeader(parsing: $0) }),
              let records = try? header.records(in: data) else { return }
        for record in records {
            _ = (record.key?.count, record.value?.count, record.copied())
            for h in record.headers { _ = (h.name, h.value.count) }
            _ = record.headers["type"]
        }
    }

    /// A batch whose header fields come from the input (base offset, timestamps, deltas,
    /// count, codec), followed by the input's records section: reaches the arithmetic on
    /// offsets and timestamps, and the decompressors, with any values.
    static func recordBatchFields(_ data: [UInt8]) {
        guard data.count >= 25 else { return }
        var batch = [UInt8]()
        batch.reserveCapacity(61 + data.count)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.bigEndian) { batch.append(contentsOf: $0) } }
        let baseOffset = data[0..<8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let baseTimestamp = data[8..<16].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let lastOffsetDelta = data[16..<20].reduce(Int32(0)) { $0 << 8 | Int32($1) }
        let recordCount = data[20..<24].reduce(Int32(0)) { $0 << 8 | Int32($1) }
        let codec = Int16([0, 3, 4][Int(data[24]) % 3])
        let section = data[25...]
        put(baseOffset)
        put(Int32(49 + section.count))
        put(Int32(-1))
        batch.append(2)
        put(UInt32(0))
        put(codec)
        put(lastOffsetDelta)
        put(baseTimestamp)
        put(baseTimestamp)
        put(Int64(-1))
        put(Int16(-1))
        put(Int32(-1))
        put(recordCount)
        batch.append(contentsOf: section)
        recordBatch(batch)
    }

    /// Offset and time index files: the first 8 bytes are the log's size, the rest the file;
    /// then lookups at a spread of offsets and times.
    static func indexes(_ data: [UInt8]) {
        guard data.count >= 8 else { return }
        let logSize = data[0..<8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let file = Array(data[8...])
        let offsets = OffsetIndex(parsing: file, logSize: logSize)
        let times = TimeIndex(parsing: file)
        for probe in [UInt32(0), 1, 7, 4096, UInt32.max / 2, UInt32.max] {
            _ = offsets.floorPosition(for: probe)
        }
        for probe in [Int64.min, -1, 0, 1_700_000_000_000, Int64.max] {
            _ = times.floorRelativeOffset(for: probe)
        }
    }

    /// A `topic.conf` file.
    static func topicConfig(_ data: [UInt8]) {
        _ = try? TopicConfiguration(file: data, path: "topic.conf")
    }

    /// A `recovery-checkpoint` file.
    static func recoveryCheckpoint(_ data: [UInt8]) {
        _ = RecoveryCheckpoint.decode(data)
    }

    /// Crash recovery over a damaged tail: the input (after a first byte choosing the
    /// codec) is appended to the newest segment of a real partition, which is then opened
    /// after an unclean shutdown and read from start to end.
    static func recoveryTail(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let topic = ["none", "lz4", "zstd"][Int(first) % 3]
        let work = RecoveryTemplate.shared.makeCrashedCopy(topic: topic, tail: data.dropFirst())
        defer { try? FileManager.default.removeItem(atPath: work) }
        blocking {
            var options = LogStore.Options()
            options.ioThreads = 1
            options.cleanerInterval = nil
            let store = try await LogStore.open(at: work, options: options, logger: quietLogger)
            for partition in store.topic(named: topic)?.partitions ?? [] {
                var next = partition.startOffset
                while next < partition.endOffset {
                    do {
                        let r = try partition.readBlocking(from: next, maxRecords: 1000)
                        guard r.nextOffset > next else { break }
                        next = r.nextOffset
                    } catch let e as LogError {
                        guard let range = e.range, range.end > next else { break }
                        next = range.end
                    }
                }
            }
            try? await store.close()
        }
    }

    static let quietLogger: Logger = {
        var l = Logger(label: "eventlog-fuzz")
        l.logLevel = .critical
        return l
    }()

    /// Runs async work from a synchronous fuzz callback (a thread of its own, never the pool).
    static func blocking(_ body: @escaping @Sendable () async throws -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task {
            try? await body()
            done.signal()
        }
        done.wait()
    }
}

/// A data directory with one topic per codec, each a few segments of real batches, closed
/// cleanly once per process and copied for each input.
final class RecoveryTemplate: Sendable {
    static let shared = RecoveryTemplate()
    let directory: String

    private init() {
        directory = NSTemporaryDirectory() + "eventlog-fuzz-template-\(getpid())"
        let dir = directory
        try? FileManager.default.removeItem(atPath: dir)
        FuzzTargets.blocking {
            let store = try await LogStore.open(at: dir, logger: FuzzTargets.quietLogger)
            for (name, codec) in [("none", CompressionCodec.none), ("lz4", .lz4), ("zstd", .zstd)] {
                var configuration = TopicConfiguration(compression: codec, durability: .none, segmentBytes: 2048)
                configuration.indexIntervalBytes = 256
                let partition = try await store.createTopic(named: name, configuration: configuration).partitions[0]
                for i in 0..<24 {
                    let records = (0..<(1 + i % 4)).map { j in
                        Record(key: "k\(i % 5)", value: "value \(i)-\(j)",
                               headers: [RecordHeader(name: "h", value: "\(i)")], timestamp: 1_700_000_000_000 + Int64(i))
                    }
                    try await partition.append(records)
                }
            }
            try await store.close()
        }
    }

    /// Copies the template, drops the clean-shutdown marker and appends `tail` to the
    /// newest segment of `topic`; returns the copy's path.
    func makeCrashedCopy(topic: String, tail: ArraySlice<UInt8>) -> String {
        let work = directory + "-run-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.copyItem(atPath: directory, toPath: work)
        try? FileManager.default.removeItem(atPath: work + "/.clean-shutdown")
        let partition = work + "/topics/\(topic)/0"
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: partition)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
        if let last = logs.last, let handle = FileHandle(forWritingAtPath: partition + "/" + last) {
            handle.seekToEndOfFile()
            handle.write(Data(tail))
            handle.closeFile()
        }
        return work
    }
}
