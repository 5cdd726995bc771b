// eventlog-torture: writer processes for the kill -9 tests, and the torture campaign.
//
//   eventlog-torture DIR [--writers N] [--codec none|lz4|zstd] [--partitions N]
//   eventlog-torture compact DIR
//   eventlog-torture writer DIR --round R --acks FILE [--codec C]
//   eventlog-torture campaign DIR [--rounds N] [--seed S] [--log-dump PATH] [--time-scale F]
//
// The first form appends batches with `fsync` durability from N concurrent tasks, forever,
// and prints one line per acknowledged append to standard output, flushed at once:
//   ACK <partition> <first offset> <count> <writer> <sequence>
// The record values are "w<writer>-s<sequence>-r<i>", so a checker can tell exactly which
// records each acknowledged offset must hold after the process is killed.
//
// The second form appends keyed records to a compacted topic and compacts it over and over
// (offset o holds key "k<o % 97>" and value "v<o>"), printing "ACK <end offset>" after each
// durable append; the kill tests kill it mid-compaction, also at named crash points
// (EVENTLOG_CRASH_AT=compaction.committed:N).
//
// The last two are the torture campaign (TortureCampaign.swift, Docs/RELIABILITY.md): the
// campaign runs the writer (TortureWriter.swift) N times (default: $TORTURE_ROUNDS, else
// 1,000), kills it at random moments and at named crash points, and checks the store after
// each death. It exits 0 when it found no problem. `--time-scale F` (default 1) lets each writer
// run F times longer before it is killed, for builds F times slower (sanitizers).
import EventLog
import Logging

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "compact", arguments.count >= 2 {
    try await compactTorture(directory: arguments[1])
    exit(0)
}
if arguments.first == "writer", arguments.count >= 2, let round = Int(option("--round", "")) {
    let codec = CompressionCodec(name: option("--codec", "none")) ?? .none
    try await TortureWriter.run(directory: arguments[1], round: round, codec: codec, acks: AckFile(path: option("--acks", "/dev/stdout")))
    exit(0)
}
if arguments.first == "campaign", arguments.count >= 2 {
    let environmentRounds = getenv("TORTURE_ROUNDS").flatMap { Int(String(cString: $0)) }
    let rounds = Int(option("--rounds", "")) ?? environmentRounds ?? 1000
    let seed = UInt64(option("--seed", "")) ?? UInt64(monotonicMilliseconds())
    let me = executablePath()
    let logDump = option("--log-dump", String(me[..<(me.lastIndex(of: "/") ?? me.startIndex)]) + "/log-dump")
    mkdir(arguments[1], 0o755)
    let timeScale = Double(option("--time-scale", "1")).map { min(max($0, 1), 100) } ?? 1
    var campaign = TortureCampaign(base: arguments[1], rounds: rounds, seed: seed, writerBinary: me, logDump: logDump,
                                   timeScale: timeScale)
    exit(await campaign.run() ? 0 : 1)
}
guard let directory = arguments.first else {
    writeLine("usage: eventlog-torture DIR [--writers N] [--codec none|lz4|zstd] [--partitions N]", to: 2)
    exit(2)
}
func option(_ name: String, _ fallback: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}

/// This executable's path (`/proc/self/exe`).
func executablePath() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
}

/// Writes one line with a single `write(2)`: lines below PIPE_BUF never interleave.
func writeLine(_ s: String, to fd: Int32 = 1) {
    var bytes = Array(s.utf8)
    bytes.append(0x0A)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

let writers = Int(option("--writers", "8")) ?? 8
let partitions = Int(option("--partitions", "2")) ?? 2
let codec = CompressionCodec(name: option("--codec", "none")) ?? .none

var logger = Logger(label: "eventlog-torture")
logger.logLevel = .warning

let store = try await LogStore.open(at: directory, logger: logger)
let topic = try await store.topic(named: "torture", creatingWith: TopicConfiguration(partitions: partitions, compression: codec, durability: .fsync, segmentBytes: 64 << 10))
writeLine("READY")

await withThrowingTaskGroup(of: Void.self) { group in
    for w in 0..<writers {
        group.addTask {
            var sequence = 0
            var rng = SystemRandomNumberGenerator()
            while true {
                let count = Int.random(in: 1...5, using: &rng)
                let records = (0..<count).map { i in
                    Record(key: "w\(w)", value: "w\(w)-s\(sequence)-r\(i)")
                }
                let p = (w + sequence) % partitions
                let range = try await topic.partitions[p].append(records)
                writeLine("ACK \(p) \(range.first.rawValue) \(count) \(w) \(sequence)")
                sequence += 1
            }
        }
    }
}


func compactTorture(directory: String) async throws {
    var logger = Logger(label: "eventlog-torture")
    logger.logLevel = .warning
    var options = LogStore.Options()
    options.cleanerInterval = nil
    let store = try await LogStore.open(at: directory, options: options, logger: logger)
    var config = TopicConfiguration(durability: .fsync, cleanupPolicy: .compact, segmentBytes: 4096)
    config.indexIntervalBytes = 512
    let partition = try await store.topic(named: "kv", creatingWith: config).partitions[0]
    writeLine("READY")
    var round = 0
    while true {
        let start = partition.endOffset.rawValue
        let records = (0..<50).map { i -> Record in
            let o = start + Int64(i)
            return Record(key: "k\(o % 97)", value: "v\(o)")
        }
        let range = try await partition.append(records)
        writeLine("ACK \(range.end.rawValue)")
        round += 1
        if round % 4 == 0 {
            _ = try await partition.compact(limits: CompactionLimits(offsetMapBytes: 64 << 10, bytesPerSecond: nil))
            writeLine("COMPACTED")
        }
    }
}
