#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif
import EventLog

/// The most an append path could do on one thread: encode Kafka v2 batches with the library's
/// own encoder (`EncodedBatch`) and `pwrite(2)` them one after another into the page cache.
enum PlainCeiling {
    /// Records per second of the encoder alone and of encoder + `pwrite`.
    struct Figures {
        var encodeOnly: Double
        var encodeAndWrite: Double
        var bytesPerRecordOnDisk: Double
    }

    static func measure(file: String, workload: Workload, records: Int, codec: CompressionCodec) throws -> Figures {
        let batches = max(1, records / workload.batchSize)
        let now: Int64 = 1_700_000_000_000
        // The encoder alone.
        var sink = 0
        let encodeWatch = Stopwatch()
        for i in 0..<batches {
            let batch = try EncodedBatch(records: workload.batch(i), codec: codec, now: now)
            sink &+= batch.bytes.count
        }
        let encodeSeconds = encodeWatch.elapsedSeconds

        // Encoder + pwrite at the end of one file, as the writer does.
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchmarkError("open \(file): errno \(errno)") }
        defer { close(fd); unlink(file) }
        var at: off_t = 0
        let writeWatch = Stopwatch()
        for i in 0..<batches {
            let batch = try EncodedBatch(records: workload.batch(i), codec: codec, now: now)
            let n = batch.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, at) }
            guard n == batch.bytes.count else { throw BenchmarkError("pwrite: errno \(errno)") }
            at += off_t(n)
        }
        let writeSeconds = writeWatch.elapsedSeconds
        precondition(sink > 0)
        let total = Double(batches * workload.batchSize)
        return Figures(encodeOnly: total / encodeSeconds, encodeAndWrite: total / writeSeconds,
                       bytesPerRecordOnDisk: Double(at) / total)
    }
}
