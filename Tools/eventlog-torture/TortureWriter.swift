import EventLog
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The topics of the torture campaign and who writes them (`eventlog-torture writer`).
///
/// - `t`: 3 partitions, `fsync`, 16 KiB segments (a roll every ~50 records), an index entry
///   every 256 bytes. Writers `w0`…`w3` append batches of 1–5 records to partition
///   `(w + sequence) % 3`; idempotent producers `p0`, `p1` (producer id `8 × round + k`,
///   epoch 0) append to partition `k`.
/// - `r`: 1 partition, 4 KiB segments, `retentionBytes` 12 KiB; writer `r`, and a retention
///   pass every 10 ms.
/// - `kv`: 1 partition, compacted, 4 KiB segments; one writer appends 20 records at a time,
///   offset `o` holding key `k<o % 31>` and value `v<o>`, and a compaction every 20 ms.
/// - consumer group `g` commits position `1,000,000 × round + n` of `t/0`, n = 0, 1, 2…
///
/// Each acknowledgement is one line appended to the acknowledgement file with one
/// `write(2)`, only after the append (or commit) returned:
/// `T <partition> <first> <count> <writer> <sequence>`, `P <partition> <first> <count> <k> <sequence>`,
/// `R <first> <count> <sequence>`, `K <end offset>`, `G <position>`, and `READY` once open.
enum TortureWriter {
    static let plainWriters = 4
    static let producers = 2
    static let kvKeys: Int64 = 31
    static let group = "g"

    static func topicConfiguration(codec: CompressionCodec) -> TopicConfiguration {
        var c = TopicConfiguration(partitions: 3, compression: codec, durability: .fsync, segmentBytes: 16 << 10)
        c.indexIntervalBytes = 256
        return c
    }

    static var retainedConfiguration: TopicConfiguration {
        var c = TopicConfiguration(durability: .fsync, segmentBytes: 4 << 10)
        c.retentionBytes = 12 << 10
        c.indexIntervalBytes = 512
        return c
    }

    static var compactedConfiguration: TopicConfiguration {
        var c = TopicConfiguration(durability: .fsync, cleanupPolicy: .compact, segmentBytes: 4 << 10)
        c.indexIntervalBytes = 512
        return c
    }

    static func producerID(round: Int, k: Int) -> Int64 { Int64(round) * 8 + Int64(k) }

    static func storeOptions() -> LogStore.Options {
        var options = LogStore.Options()
        options.cleanerInterval = nil  // passes are run by the tasks below, often
        options.flushInterval = .milliseconds(20)
        return options
    }

    static func run(directory: String, round: Int, codec: CompressionCodec, acks: AckFile) async throws {
        var logger = Logger(label: "eventlog-torture")
        logger.logLevel = .critical
        let store = try await LogStore.open(at: directory, options: storeOptions(), logger: logger)
        let t = try await store.topic(named: "t", creatingWith: topicConfiguration(codec: codec))
        let r = try await store.topic(named: "r", creatingWith: retainedConfiguration).partitions[0]
        let kv = try await store.topic(named: "kv", creatingWith: compactedConfiguration).partitions[0]
        let groups = try await GroupCoordinator.open(store: store, logger: logger)
        acks.write("READY")

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for w in 0..<plainWriters {
                tasks.addTask {
                    for s in 0... {
                        let p = (w + s) % t.partitions.count
                        let records = TortureContent.batch(round: round, writer: "w\(w)", sequence: s)
                        let range = try await t.partitions[p].append(records)
                        acks.write("T \(p) \(range.first.rawValue) \(records.count) w\(w) \(s)")
                    }
                }
            }
            for k in 0..<producers {
                tasks.addTask {
                    var baseSequence: Int32 = 0
                    for s in 0... {
                        let records = TortureContent.batch(round: round, writer: "p\(k)", sequence: s)
                        let stamp = ProducerStamp(producerID: producerID(round: round, k: k), epoch: 0, baseSequence: baseSequence)
                        let range = try await t.partitions[k].append(records, producer: stamp)
                        acks.write("P \(k) \(range.first.rawValue) \(records.count) \(k) \(s)")
                        baseSequence += Int32(records.count)
                    }
                }
            }
            tasks.addTask {
                for s in 0... {
                    let records = TortureContent.batch(round: round, writer: "r", sequence: s)
                    let range = try await r.append(records)
                    acks.write("R \(range.first.rawValue) \(records.count) \(s)")
                }
            }
            tasks.addTask {
                while true {
                    _ = try await r.applyRetention()
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            tasks.addTask {
                while true {
                    // The only writer of kv: the offsets it gets are the end it read.
                    let start = kv.endOffset.rawValue
                    let records = (start..<start + 20).map { o in
                        Record(key: Array("k\(o % kvKeys)".utf8), value: Array("v\(o)".utf8))
                    }
                    let range = try await kv.append(records)
                    precondition(range.first.rawValue == start, "kv has another writer")
                    acks.write("K \(range.end.rawValue)")
                }
            }
            tasks.addTask {
                while true {
                    _ = try await kv.compact(limits: CompactionLimits(offsetMapBytes: 64 << 10, bytesPerSecond: nil))
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            tasks.addTask {
                for n in 0... {
                    let position = Int64(round) * 1_000_000 + Int64(n)
                    try await groups.commit([TopicPartition("t", 0): CommittedOffset(Offset(position))], for: group)
                    acks.write("G \(position)")
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            try await tasks.waitForAll()
        }
    }
}

/// Lines appended to a file, each with one `write(2)`: what the process wrote is in the file
/// whenever it dies (the page cache keeps it), and a line is never half there unless the
/// process died inside that one call, which the reader detects (no newline).
final class AckFile: Sendable {
    let fd: Int32

    init(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "cannot open \(path)")
    }

    func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        precondition(n == bytes.count, "short write of an acknowledgement")
    }
}
