/// The scenarios, in the order a full run executes them; `--only` takes these names.
public enum ScenarioName: String, CaseIterable, Sendable {
    case disk = "baseline-disk"
    case ceiling = "plain-ceiling"
    case appendNone = "append-none"
    case appendLZ4 = "append-lz4"
    case appendZstd = "append-zstd"
    case append1MiB = "append-1mib"
    case groupCommit = "fsync-group"
    case randomRead = "read-random"
    case sequentialRead = "read-sequential"
    case open = "open"
    case compaction = "compaction"
    case appendWhileCompacting = "append-while-compacting"
    case logDumpVerify = "log-dump-verify"
    case groups = "groups"

    /// One line for `--list`.
    public var summary: String {
        switch self {
        case .disk: "dd (O_DIRECT and conv=fdatasync), a pwrite loop of 1 MiB + fdatasync, the 4 KiB pwrite+fdatasync rate"
        case .ceiling: "EncodedBatch alone, and EncodedBatch + pwrite into the page cache (none, lz4, zstd)"
        case .appendNone: "100 B records in batches of 100, durability none, vs SQLite (GRDB, WAL, synchronous=NORMAL)"
        case .appendLZ4: "as append-none with LZ4, vs the LZ4 plain ceiling"
        case .appendZstd: "as append-none with Zstd and concurrent appenders, with CPU utilisation"
        case .append1MiB: "1 MiB batches (1 GiB in all) vs dd's sequential write bandwidth"
        case .groupCommit: "durability fsync: 64 concurrent 1-record appenders vs 1, group size, vs SQLite synchronous=FULL"
        case .randomRead: "readBlocking(maxRecords: 1) at random offsets, 10M vs 1M records, warm and cold cache"
        case .sequentialRead: "readBlocking from earliest with large maxRecords vs a plain pread of the files"
        case .open: "open after a clean close of a large log (up to 5 GB), and after a simulated crash with small tails"
        case .compaction: "compact() of a 1 GB log of 100,000 keys, unthrottled, MB/s of log read vs readBlocking of the same log"
        case .appendWhileCompacting: "append throughput while the cleaner compacts another partition (128 MiB/s) vs without, interleaved"
        case .logDumpVerify: "release log-dump --verify of a 1 GB partition vs cat of the same files"
        case .groups: "consumer groups: commit latency p50/p99, group consumer throughput committing every batch vs partition.read"
        }
    }
}
