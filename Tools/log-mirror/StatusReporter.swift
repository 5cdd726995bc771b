import EventLog
import Glibc

/// What the mirror tells its operator: one-sentence notes on standard error
/// (`log-mirror: …`), and a status line of JSON on standard output every `--status-interval`
/// seconds and on exit:
///
/// ```json
/// {"status":"running","records":1200,"batches":12,"duplicates":0,"skipped":0,"retries":0,"lag":0,
///  "partitions":[{"topic":"orders","partition":0,"position":600,"committed":600,"end":600,"lag":0}]}
/// ```
final class StatusReporter {
    private let intervalMs: Int
    private var lastReportMs: Int64

    init(intervalMs: Int) {
        self.intervalMs = intervalMs
        lastReportMs = Self.nowMs()
    }

    /// A note on standard error.
    func note(_ sentence: String) {
        Self.write("log-mirror: \(sentence)\n", to: STDERR_FILENO)
    }

    /// Prints the status line when the interval has passed (or always when `final`).
    func report(_ mirror: Mirror, final: Bool) {
        let now = Self.nowMs()
        guard final || (intervalMs > 0 && now - lastReportMs >= Int64(intervalMs)) else { return }
        lastReportMs = now
        var partitions: [String] = []
        for tp in mirror.positions.keys.sorted() {
            let position = mirror.positions[tp]!
            let end = mirror.highWatermarks[tp]
            let committed = mirror.committed[tp].map(String.init) ?? "null"
            partitions.append("{\"topic\":\(Self.quoted(tp.topic)),\"partition\":\(tp.partition),\"position\":\(position),\"committed\":\(committed),\"end\":\(end.map(String.init) ?? "null"),\"lag\":\(max(0, (end ?? position) - position))}")
        }
        let line = "{\"status\":\"\(final ? "stopped" : "running")\",\"records\":\(mirror.mirroredRecords),\"batches\":\(mirror.mirroredBatches),\"duplicates\":\(mirror.duplicates),\"skipped\":\(mirror.skippedRecords),\"retries\":\(mirror.retries),\"producer_resets\":\(mirror.producer.resets),\"lag\":\(mirror.lag),\"partitions\":[\(partitions.joined(separator: ","))]}\n"
        Self.write(line, to: STDOUT_FILENO)
    }

    /// A JSON string (topic names are `[a-zA-Z0-9._-]` in Kafka, but nothing is assumed).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Writes `text` to standard error as it is.
    static func writeError(_ text: String) { write(text, to: STDERR_FILENO) }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n <= 0 { if errno == EINTR { continue } else { return } }
            written += n
        }
    }

    /// Milliseconds of `CLOCK_MONOTONIC`.
    static func nowMs() -> Int64 { clock(CLOCK_MONOTONIC) }

    /// Milliseconds since the Unix epoch (`CLOCK_REALTIME`).
    static func nowWallMs() -> Int64 { clock(CLOCK_REALTIME) }

    private static func clock(_ id: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(id, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
